/**
 * Soak: runs the scenario catalog (or the scenarios named) N times, each a real `npm run scenario` process with seed
 * i, and prints pass counts per scenario, the wall time per run, every failed assertion and every fault without its
 * effect, the readiness flip latencies measured in redis-outage, and whether every run had the same assertion ids and
 * statuses as the first. Exits 0 when every run passed with the same outcomes, 1 otherwise.
 * Target: N/N passes with no flaky verdict.
 * Usage: npm run soak [-- --runs 20] [--backend native] [--workers auto] [SCENARIO ...]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { outcomeDifferences, outcomeLines, type Verdict } from "../../harness/report/verdict";

const { values, positionals } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    backend: { type: "string", default: "auto" },
    workers: { type: "string", default: "auto" },
  },
  allowPositionals: true,
});
const runs = Number(values.runs);
const cli = path.join(__dirname, "..", "..", "harness", "cli", "scenario.js");
const passes = new Map<string, number>();
const walls: number[] = [];
const flipMs: number[] = [];
const recoverMs: number[] = [];
const unstable: string[] = [];
let first: Verdict | undefined;
let green = 0;

for (let i = 1; i <= runs; i++) {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-soak-"));
  const started = performance.now();
  const args = [...positionals, "--backend", values.backend, "--workers", values.workers, "--seed", String(i)];
  const result = spawnSync(process.execPath, [cli, ...args, "--report-dir", reportDir], { encoding: "utf8" });
  walls.push((performance.now() - started) / 1000);
  const verdictFile = path.join(reportDir, "verdict.json");
  if (!fs.existsSync(verdictFile)) {
    console.log(
      `run ${i}/${runs}: exit ${result.status} without a verdict: ${result.stderr.trim().split("\n").at(-1)}`,
    );
    continue;
  }
  const verdict = JSON.parse(fs.readFileSync(verdictFile, "utf8")) as Verdict;
  if (result.status === 0) green++;
  first ??= verdict;
  unstable.push(...outcomeDifferences(first, verdict, ["run 1", `run ${i}`]));
  for (const s of verdict.scenarios) passes.set(s.name, (passes.get(s.name) ?? 0) + (s.status === "passed" ? 1 : 0));
  const flips = verdict.scenarios
    .find((s) => s.name === "redis-outage")
    ?.assertions.find((a) => a.id === "probes.readiness-flip")?.observed as
    Record<string, { flipMs?: number; recoverMs?: number }> | undefined;
  for (const flip of Object.values(flips ?? {})) {
    if (flip.flipMs !== undefined) flipMs.push(flip.flipMs);
    if (flip.recoverMs !== undefined) recoverMs.push(flip.recoverMs);
  }
  const failed = verdict.scenarios.flatMap((s) => [
    ...(s.abortReason ? [`${s.name} ${s.status}: ${s.abortReason.slice(0, 160)}`] : []),
    ...s.groundTruth.faults
      .filter((f) => f.effect && !f.effect.observed)
      .map((f) => `${s.name} fault ${f.kind} on ${f.target} without its effect: ${f.effect!.detail}`),
    ...s.assertions.filter((a) => a.status === "failed").map((a) => `${s.name} ${a.id}: ${a.message.slice(0, 160)}`),
  ]);
  console.log(
    `run ${i}/${runs}: exit ${result.status}, ${walls.at(-1)!.toFixed(1)} s${failed.length ? `\n  ${failed.join("\n  ")}` : ""}`,
  );
}
console.log("\npasses per scenario:");
for (const [name, count] of passes) console.log(`  ${name.padEnd(20)} ${count}/${runs}`);
function spread(values: number[], unit: string): string {
  if (values.length === 0) return "none measured";
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(1)} ${unit}, min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} (n=${sorted.length})`;
}
console.log(`wall time per run: ${spread(walls, "s")}`);
console.log(`orders /readyz 503 after the Redis link went down: ${spread(flipMs, "ms")}`);
console.log(`orders /readyz 200 after the Redis link came back: ${spread(recoverMs, "ms")}`);
console.log(
  `${green}/${runs} runs green; ${
    unstable.length
      ? `${unstable.length} outcome(s) differ from run 1:\n  ${unstable.join("\n  ")}`
      : `every run had run 1's ${first ? outcomeLines(first).length : 0} assertion ids and statuses`
  }`,
);
process.exitCode = green === runs && unstable.length === 0 ? 0 : 1;
