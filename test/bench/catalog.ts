/**
 * The catalog (or the scenarios named) twice in one invocation with one seed: one scenario at a time (--workers 1),
 * then with --workers auto (or N). Prints each run's wall time, the scenarios' time, the workers the run used and the
 * ratio, and compares the runs outcome by outcome: the same assertion ids and statuses. Exits 0 when both pass and
 * agree, 1 otherwise. Target on a 2-core machine: the catalog with workers <= 100 s.
 * Usage: npm run bench:catalog [-- --workers auto] [--seed 1] [--backend auto] [SCENARIO ...]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { outcomeDifferences, outcomeLines, type Verdict } from "../../harness/report/verdict";

const { values, positionals } = parseArgs({
  options: {
    workers: { type: "string", default: "auto" },
    seed: { type: "string", default: "1" },
    backend: { type: "string", default: "auto" },
  },
  allowPositionals: true,
});
const cli = path.join(__dirname, "..", "..", "harness", "cli", "scenario.js");

function run(workers: string): { verdict: Verdict; wallS: number } {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-bench-catalog-${workers}-`));
  const args = [...positionals, "--workers", workers, "--seed", values.seed, "--backend", values.backend];
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args, "--report-dir", reportDir], { encoding: "utf8" });
  const wallS = (performance.now() - started) / 1000;
  const file = path.join(reportDir, "verdict.json");
  if (!fs.existsSync(file)) {
    console.error(
      `--workers ${workers}: exit ${result.status} without a verdict:\n${result.stderr.trim().slice(-800)}`,
    );
    process.exit(2);
  }
  const verdict = JSON.parse(fs.readFileSync(file, "utf8")) as Verdict;
  const passed = verdict.scenarios.filter((s) => s.status === "passed").length;
  const scenariosS = (verdict.run.timings?.scenariosMs ?? verdict.run.durationMs) / 1000;
  console.log(
    `--workers ${workers}: ${verdict.run.workers ?? 1} worker(s), exit ${result.status}, ${passed}/${verdict.scenarios.length} passed, ` +
      `wall ${wallS.toFixed(1)} s, scenarios ${scenariosS.toFixed(1)} s (${reportDir})`,
  );
  return { verdict, wallS };
}

const serial = run("1");
const parallel = run(values.workers);
const ratio = (s: { verdict: Verdict }) => s.verdict.run.timings?.scenariosMs ?? s.verdict.run.durationMs;
console.log(
  `ratio: the scenarios took ${(ratio(parallel) / ratio(serial)).toFixed(2)}x the serial time with workers ` +
    `(wall ${(parallel.wallS / serial.wallS).toFixed(2)}x)`,
);
const differences = outcomeDifferences(serial.verdict, parallel.verdict, ["serial", "workers"]);
console.log(
  differences.length
    ? `${differences.length} difference(s):\n  ${differences.join("\n  ")}`
    : `the same ${outcomeLines(serial.verdict).length} outcomes (assertion ids and statuses) serial and with workers`,
);
const allPassed = [serial, parallel].every((r) => r.verdict.scenarios.every((s) => s.status === "passed"));
process.exitCode = differences.length === 0 && allPassed ? 0 : 1;
