/**
 * The whole catalog (or the scenarios named) with one seed, natively and in containers (`--backend docker
 * --mesh-runtime docker`), compared scenario by scenario: the same assertion ids and statuses, and the same requests
 * sent (where the rate is not a share of each runtime's own capacity). test/e2e/mesh-runtime.test.ts compares five
 * scenarios within npm test's time; this compares them all.
 * Prints each run's wall time and every difference; exits 0 when both runs pass and agree, 1 otherwise.
 * Usage: npm run compare:runtimes [-- --seed 7] [SCENARIO ...]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { outcomeDifferences, outcomeLines, type Verdict } from "../../harness/report/verdict";

const { values, positionals } = parseArgs({
  options: { seed: { type: "string", default: "7" } },
  allowPositionals: true,
});
const cli = path.join(__dirname, "..", "..", "harness", "cli", "scenario.js");

function run(runtime: "native" | "docker"): Verdict {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-compare-${runtime}-`));
  const args = [...positionals, "--backend", runtime, "--mesh-runtime", runtime, "--seed", values.seed];
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args, "--report-dir", reportDir], { encoding: "utf8" });
  if (!fs.existsSync(path.join(reportDir, "verdict.json"))) {
    console.error(
      `${runtime}: exit ${result.status} without a verdict:\n${result.stderr.trim().split("\n").slice(-5).join("\n")}`,
    );
    process.exit(2);
  }
  const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
  const passed = verdict.scenarios.filter((s) => s.status === "passed").length;
  console.log(
    `${runtime}: exit ${result.status}, ${passed}/${verdict.scenarios.length} scenarios passed, ${((performance.now() - started) / 1000).toFixed(1)} s (${reportDir})`,
  );
  return verdict;
}

const native = run("native");
const docker = run("docker");
const differences = [
  ...outcomeDifferences(native, docker, ["native", "containers"]),
  // The same seed sends the same requests, except at a share of capacity: each runtime's own measured capacity sets
  // the rate.
  ...native.scenarios.flatMap((s, i) => {
    const other = docker.scenarios[i];
    return s.measurements.capacityPerSec !== undefined || other?.groundTruth.requests === s.groundTruth.requests
      ? []
      : [`${s.name}: ${s.groundTruth.requests} requests natively, ${other?.groundTruth.requests} in containers`];
  }),
];
const allPassed = [native, docker].every((v) => v.scenarios.every((s) => s.status === "passed"));
console.log(
  differences.length
    ? `${differences.length} difference(s):\n  ${differences.join("\n  ")}`
    : `the same ${outcomeLines(native).length} outcomes (${native.scenarios.length} scenarios and their assertion ids and statuses) on both runtimes`,
);
process.exitCode = differences.length === 0 && allPassed ? 0 : 1;
