import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  rcaScoreLine,
  scoreLocalization,
  type BaselineScore,
  type RcaScore,
  type ScoredRun,
} from "../../assertions/rca";
import { loadBoundCatalog } from "../../scenarios";
import { ConfigError } from "../errors";
import { evidenceFileIn, readEvidenceFile, readRunFile } from "../report/evidence-file";
import type { Verdict } from "../report/verdict";
import { rcaVariants } from "../run/rca-variants";
import { parseCliArgs, runCli } from "./run-cli";
import { meshConfigFile, meshTopologyOf, sampleMeshOptions, selectScenarios } from "./scenario-options";

const USAGE = `usage: npm run rca:bench -- [NAME ...] [--runs N] [--config FILE] [--report-dir DIR]
  NAME          fault scenarios to run (default: every one that binds to the mesh)
  --runs        how many times each fault scenario runs, each time with another seed, target and intensity (default 5)
  --config      FILE: the mesh to judge (as npm run scenario takes it); default the sample mesh
  --report-dir  where each run's reports and rca-bench.json go (default reports/rca-bench)
Prints, per fault kind, AC@1, AC@3 and Avg@5 of meshproof's localisation beside a rule-based and a random
localiser's on the same faults, then every miss with its ranking.
exit codes: 0 the table was printed, 2 usage error or a run that judged nothing`;

const SCENARIO_CLI = path.join(__dirname, "scenario.js");

runCli(async () => {
  const { values, positionals } = parseCliArgs(
    {
      runs: { type: "string", default: "5" },
      config: { type: "string" },
      "report-dir": { type: "string", default: path.join("reports", "rca-bench") },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100)
    throw new ConfigError(`--runs must be an integer within 1..100 (got "${values.runs}")`);
  const shaping = { defects: "", impl: [], contract: [], "service-env": [], backend: "auto" };
  const configFile = meshConfigFile({ ...shaping, config: values.config });
  const mesh = meshTopologyOf(configFile, sampleMeshOptions(shaping));
  const catalog = selectScenarios(loadBoundCatalog(undefined, mesh).scenarios, positionals);
  const out = path.resolve(values["report-dir"]);
  fs.mkdirSync(out, { recursive: true });

  const scored: ScoredRun[] = [];
  for (let run = 0; run < runs; run++) {
    const variants = rcaVariants(catalog, mesh, run);
    if (variants.length === 0) throw new ConfigError("no fault scenario binds to this mesh: nothing to localise");
    const dir = path.join(out, `run-${run + 1}`);
    const scenarios = path.join(dir, "scenarios");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(scenarios, { recursive: true });
    for (const v of variants)
      fs.writeFileSync(path.join(scenarios, `${v.name}.js`), `module.exports = { default: ${JSON.stringify(v)} };\n`);
    const args = ["--scenarios", scenarios, "--seed", String(run + 1), "--report-dir", dir];
    const started = performance.now();
    const code = await child([SCENARIO_CLI, ...args, ...(configFile ? ["--config", configFile] : [])]);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const verdict = readRunFile(path.join(dir, "verdict.json")) as Verdict;
    const evidence = readEvidenceFile(evidenceFileIn(dir)).scenarios;
    const judged = verdict.scenarios.filter((s) => s.rca);
    process.stderr.write(
      `run ${run + 1}/${runs}: ${judged.length} of ${variants.length} scenarios judged (exit ${code}, ${seconds} s); ${verdict.rca ? rcaScoreLine(verdict.rca) : "no RCA"}\n`,
    );
    if (judged.length === 0)
      throw new ConfigError(
        `run ${run + 1} judged none of its ${variants.length} fault scenarios (each aborted or not applicable), so it has nothing to localise; each one's reason is in ${path.join(dir, "verdict.json")} (abortReason); fix that and run again`,
      );
    for (const s of judged) {
      const e = evidence.find((x) => x.name === s.name)?.evidence;
      if (!e) continue;
      scored.push({
        scenario: s.name,
        faults: e.faults,
        services: e.services.map((x) => x.name),
        windowEndMs: e.window.endMs,
        result: s.rca!,
        evidence: e,
      });
    }
  }
  const score = scoreLocalization(scored);
  fs.writeFileSync(path.join(out, "rca-bench.json"), `${JSON.stringify({ runs, score }, null, 2)}\n`);
  process.stdout.write(`${benchTable(score)}\n`);
  process.stdout.write(`\nrca-bench.json: ${path.join(out, "rca-bench.json")}\n`);
  return 0;
});

/** Runs a CLI with this Node; its output goes to a log beside the run's reports. Resolves with its exit code. */
function child(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
    p.once("error", reject);
    p.once("close", (code) => resolve(code ?? 1));
  });
}

/** The benchmark's table: per kind, the cases and each localiser's AC@1, AC@3 and Avg@5; then every miss. */
export function benchTable(score: RcaScore): string {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "-" : `${Math.round(v * 100)}%`);
  const three = (m: { ac1: number | null; ac3: number | null; avg5: number | null } | undefined) =>
    [m?.ac1, m?.ac3, m?.avg5].map((v) => pct(v).padStart(5)).join(" ");
  const rule = score.baselines?.ruleBased;
  const random = score.baselines?.random;
  const kindOf = (b: BaselineScore | undefined, kind: string) => b?.byKind[kind];
  const header = `${"kind".padEnd(16)} ${"cases".padStart(5)}  ${"meshproof AC@1 AC@3 Avg@5".padEnd(26)}  ${"rule-based".padEnd(17)}  random`;
  const rows = Object.entries(score.byKind).map(
    ([kind, k]) =>
      `${kind.padEnd(16)} ${String(k.faults).padStart(5)}  ${" ".repeat(9)}${three(k)}  ${three(kindOf(rule, kind))}  ${three(kindOf(random, kind))}`,
  );
  const all = `${"all".padEnd(16)} ${String(score.faults).padStart(5)}  ${" ".repeat(9)}${three(score)}  ${three(rule)}  ${three(random)}`;
  const misses = score.misses.map(
    (m) =>
      `miss ${m.scenario} ${m.kind} on ${m.target} (expected ${m.expected}, ranked ${m.rank ?? "nowhere"}): ${m.reason}` +
      (m.ranking.length ? `\n     ranking: ${m.ranking.join(" · ")}` : ""),
  );
  return [header, ...rows, all, "", `${score.misses.length} miss(es)`, ...misses].join("\n");
}
