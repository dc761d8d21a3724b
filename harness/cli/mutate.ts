import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCliArgs, runCli } from "./run-cli";
import { parseSeed } from "./scenario-options";
import { ConfigError } from "../errors";
import { MUTATION_TARGET, mutationTable, percent } from "../mutate/table";
import { capJobsByMemory, mutateInWorkers, workerAllowanceBytes } from "../mutate/pool";
import { evidenceFileIn, readRunFile } from "../report/evidence-file";
import { recordOutputs } from "../report/report-dir";
import { strykerHtml, strykerReport } from "../mutate/stryker-report";

const USAGE = `usage: npm run mutate [-- --report-dir DIR] [--per-operator N] [--seed N] [--jobs N] [--break PCT]
  --report-dir    where evidence.json.gz is read and mutation.json, mutation-report.json (Stryker's schema) and
                  mutation-report.html written (default reports/latest)
  --per-operator  mutants per operator and scenario (default 2)
  --seed          seed of the mutants' picks: an integer within 0..4294967295 (default 1)
  --jobs          worker threads judging mutants (default: one per core, here ${os.availableParallelism()}); lowered
                  to what free memory holds at max(256 MB, 8x the evidence file) a worker
  --break         PCT: exit 1 below this mutation score (Stryker's break threshold; default ${MUTATION_TARGET * 100})
exit codes: 0 score >= the break threshold, 1 below, 2 usage error or no evidence`;

runCli(async () => {
  const { values } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      "per-operator": { type: "string", default: "2" },
      seed: { type: "string", default: "1" },
      jobs: { type: "string", default: String(os.availableParallelism()) },
      break: { type: "string", default: String(MUTATION_TARGET * 100) },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const perOperator = Number(values["per-operator"]);
  const seed = parseSeed(values.seed);
  if (!Number.isInteger(perOperator) || perOperator < 1)
    throw new ConfigError(`--per-operator must be an integer >= 1 (got "${values["per-operator"]}")`);
  const asked = Number(values.jobs);
  if (!Number.isInteger(asked) || asked < 1)
    throw new ConfigError(`--jobs must be an integer >= 1 (got "${values.jobs}")`);
  const breakAt = Number(values.break);
  if (!(breakAt >= 0 && breakAt <= 100))
    throw new ConfigError(`--break must be a percentage within 0..100 (got "${values.break}")`);
  const dir = path.resolve(values["report-dir"]);
  const evidenceFile = evidenceFileIn(dir);
  // Read before the mutants are judged: a corrupt verdict.json is reported before the work, not after it.
  const scenarioFiles = scenarioFilesIn(dir);
  const capped = capJobsByMemory(asked, os.freemem(), workerAllowanceBytes(evidenceBytes(evidenceFile)));
  if (capped.reason) process.stderr.write(`mutate: --jobs capped by memory: ${capped.reason}\n`);
  const { jobs } = capped;
  const { report, results, scenarios } = await mutateInWorkers(evidenceFile, { perOperator, seed, jobs });
  if (scenarios === 0) throw new ConfigError(`${evidenceFile} holds no scenario's evidence`);
  recordOutputs(dir, "mutation.json", "mutation-report.json", "mutation-report.html");
  fs.writeFileSync(path.join(dir, "mutation.json"), `${JSON.stringify(report, null, 2)}\n`);
  const stryker = strykerReport(results, { root: process.cwd(), scenarioFiles, breakAt });
  fs.writeFileSync(path.join(dir, "mutation-report.json"), `${JSON.stringify(stryker, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "mutation-report.html"), strykerHtml(stryker));
  process.stdout.write(`${mutationTable(report)}\n\n`);
  for (const s of report.skipped) process.stdout.write(`skipped ${s.scenario}: ${s.reason}\n`);
  for (const s of report.survivors)
    if (s.scope !== "margin")
      process.stdout.write(`survivor ${s.scenario} ${s.operator}: ${s.change} — no assertion failed (a gap)\n`);
  for (const s of report.marginSurvivors)
    process.stdout.write(
      `margin survivor ${s.scenario} ${s.operator}: ${s.change} — ${s.killedBy} should have failed (a gap at the margin)\n`,
    );
  const { wholesale, margin } = report.byScope;
  process.stdout.write(
    `\nkill rate ${percent(report.total.killed, report.total.mutants)} of ${report.total.mutants} mutants over ${scenarios} scenarios (break below ${breakAt}%) in ${report.wallMs} ms with ${jobs} worker(s), reading the evidence included\n` +
      `wholesale kill rate ${percent(wholesale.killed, wholesale.mutants)} of ${wholesale.mutants}, margin kill rate ${percent(margin.killed, margin.mutants)} of ${margin.mutants}\n` +
      `mutation: ${path.join(dir, "mutation.json")}\nstryker: ${path.join(dir, "mutation-report.json")}, ${path.join(dir, "mutation-report.html")}\n`,
  );
  return report.total.mutants > 0 && report.killRate * 100 >= breakAt ? 0 : 1;
});

/** The evidence file's size (0 when it is missing: the workers report that, naming it). */
function evidenceBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Each scenario's file, from the run's verdict.json beside the evidence (none when there is no verdict); a corrupt
 * one, or one without a scenarios list, is a ConfigError naming it.
 */
function scenarioFilesIn(dir: string): Record<string, string | undefined> {
  const file = path.join(dir, "verdict.json");
  if (!fs.existsSync(file)) return {};
  const scenarios = (readRunFile(file) as { scenarios?: unknown } | null)?.scenarios;
  if (!Array.isArray(scenarios))
    throw new ConfigError(
      `${file} is not a meshproof verdict (no scenarios list): run "npm run scenario" again to write it, or remove it`,
    );
  return Object.fromEntries(
    scenarios.flatMap((s: { name?: unknown; file?: unknown } | null) =>
      typeof s?.name === "string" ? [[s.name, typeof s.file === "string" ? s.file : undefined]] : [],
    ),
  );
}
