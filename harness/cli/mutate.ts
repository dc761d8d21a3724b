import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCliArgs, runCli } from "./run-cli";
import { ConfigError } from "../errors";
import { MUTATION_TARGET, mutationTable, percent } from "../mutate/table";
import { mutateInWorkers } from "../mutate/pool";
import { evidenceFileIn } from "../report/evidence-file";

const USAGE = `usage: npm run mutate [-- --report-dir DIR] [--per-operator N] [--seed N] [--jobs N]
  --report-dir    where evidence.json.gz is read and mutation.json written (default reports/latest)
  --per-operator  mutants per operator and scenario (default 2)
  --seed          seed of the mutants' picks (default 1)
  --jobs          worker threads judging mutants (default: one per core, here ${os.availableParallelism()})
exit codes: 0 kill rate >= 95%, 1 below, 2 usage error or no evidence`;

runCli(async () => {
  const { values } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      "per-operator": { type: "string", default: "2" },
      seed: { type: "string", default: "1" },
      jobs: { type: "string", default: String(os.availableParallelism()) },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const perOperator = Number(values["per-operator"]);
  const seed = Number(values.seed);
  if (!Number.isInteger(perOperator) || perOperator < 1)
    throw new ConfigError(`--per-operator must be an integer >= 1 (got "${values["per-operator"]}")`);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed must be an integer (got "${values.seed}")`);
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new ConfigError(`--jobs must be an integer >= 1 (got "${values.jobs}")`);
  const dir = path.resolve(values["report-dir"]);
  const evidenceFile = evidenceFileIn(dir);
  const { report, scenarios } = await mutateInWorkers(evidenceFile, { perOperator, seed, jobs });
  if (scenarios === 0) throw new ConfigError(`${evidenceFile} holds no scenario's evidence`);
  fs.writeFileSync(path.join(dir, "mutation.json"), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${mutationTable(report)}\n\n`);
  for (const s of report.skipped) process.stdout.write(`skipped ${s.scenario}: ${s.reason}\n`);
  for (const s of report.survivors)
    process.stdout.write(`survivor ${s.scenario} ${s.operator}: ${s.change} — no assertion failed (a gap)\n`);
  process.stdout.write(
    `\nkill rate ${percent(report.total.killed, report.total.mutants)} of ${report.total.mutants} mutants over ${scenarios} scenarios (target >= ${MUTATION_TARGET * 100}%) in ${report.wallMs} ms with ${jobs} worker(s), reading the evidence included; ${path.join(dir, "mutation.json")}\n`,
  );
  return report.total.mutants > 0 && report.killRate >= MUTATION_TARGET ? 0 : 1;
});
