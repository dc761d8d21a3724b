import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { evaluate } from "../assertions";
import { rcaScoreLine } from "../assertions/rca";
import { loadCatalog } from "../scenarios";
import { BACKEND_NAMES, createBackend, DEFAULT_BACKEND } from "./backends";
import { abortOnSignals, parseCliArgs, runCli } from "./cli/run-cli";
import { env } from "./config/env";
import { ConfigError } from "./errors";
import { failureDetails, summaryTable } from "./report/console";
import { toJUnit } from "./report/junit";
import { exitCodeFor, type ScenarioVerdict, type Verdict } from "./report/verdict";
import { KNOWN_DEFECTS } from "./mesh/mesh";
import { writeEvidenceFile, type SavedScenario } from "./report/evidence-file";
import { reportLine, writeHtmlReport } from "./report/html-report";
import { localizeScenario, withRca } from "./report/localize-run";
import { runScenario, scenarioRunDir } from "./run";
import { provisionTools } from "./tools/provision";
import { RUN_TOOL_NAMES } from "./tools/tools";

const USAGE = `usage: npm run scenario -- [NAME ...] [--report-dir DIR] [--backend ${BACKEND_NAMES.join("|")}] [--seed N] [--list]
  NAME            scenarios to run (default: the whole catalog)
  --report-dir    where verdict.json, junit.xml, evidence.json and report.html go (default reports/latest)
  --backend       backend for Jaeger, Prometheus, Redis, Toxiproxy: auto (default: docker when an engine answers
                  and the images are built, else native), native, docker
  --seed          seed for load and fault decisions (default 1)
  --scenarios     directory of compiled scenario files (default the built-in catalog)
  --defects       comma-separated mesh defects to switch on (negative controls)
  --list          print the catalog and exit
exit codes: 0 all passed, 1 an assertion failed, 2 usage/config/setup error or aborted`;

runCli(async () => {
  const { values, positionals } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      backend: { type: "string", default: DEFAULT_BACKEND },
      seed: { type: "string", default: "1" },
      scenarios: { type: "string" },
      defects: { type: "string", default: env("MESHPROOF_DEFECTS") ?? "" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const catalog = loadCatalog(values.scenarios);
  if (catalog.length === 0)
    throw new ConfigError(
      `no scenario in ${values.scenarios ? path.resolve(values.scenarios) : "the built-in catalog"}: expected files exporting defineScenario({...}) as default`,
    );
  if (values.list) {
    for (const s of catalog) process.stdout.write(`${s.name.padEnd(20)} ${s.description}\n`);
    return 0;
  }
  const names = catalog.map((s) => s.name);
  const unknown = positionals.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown scenario${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; valid names: ${names.join(", ")}`,
    );
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed must be an integer (got "${values.seed}")`);
  const selected = positionals.length > 0 ? catalog.filter((s) => positionals.includes(s.name)) : catalog;
  const backend = createBackend(values.backend);
  const defects = values.defects
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  const unknownDefects = defects.filter((d) => !KNOWN_DEFECTS.includes(d));
  if (unknownDefects.length > 0) {
    throw new ConfigError(`unknown defect "${unknownDefects[0]}"; valid defects: ${KNOWN_DEFECTS.join(", ")}`);
  }
  const reportDir = path.resolve(values["report-dir"]);
  fs.mkdirSync(reportDir, { recursive: true });
  fs.rmSync(path.join(reportDir, "logs"), { recursive: true, force: true }); // a previous run's kept logs
  const signal = abortOnSignals();
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const startedAt = new Date();
  const t0 = performance.now();
  let t = performance.now();
  // Everything a scenario may need (the k6 driver, the Go payments) is provisioned up front: missing tools are built once.
  const tools = await provisionTools({ tools: RUN_TOOL_NAMES, log });
  log(`setup ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  await using stack = await backend.start({ tools });
  log(`backend start ${Math.round(performance.now() - t)} ms (${stack.backend}, run dir ${stack.runDir})`);

  const results: ScenarioVerdict[] = [];
  const saved: SavedScenario[] = [];
  for (const scenario of selected) {
    if (signal.aborted) break;
    log(`scenario ${scenario.name}`);
    const run = await runScenario(scenario, { stack, seed, defects, signal, log, evaluate });
    const verdict = run.verdict;
    if (run.evidence) {
      const entry = { name: scenario.name, expectations: scenario.expectations, evidence: run.evidence };
      saved.push(entry);
      verdict.rca = localizeScenario(entry);
    }
    log(`  ${scenario.name}: ${verdict.status.toUpperCase()} in ${verdict.durationMs} ms`);
    if (verdict.status !== "passed") {
      // The stack's run directory goes away with the stack: keep the evidence of what did not pass.
      const logs = path.join(scenarioRunDir(stack, scenario.name), "logs");
      const kept = path.join(reportDir, "logs", scenario.name);
      if (fs.existsSync(logs)) fs.cpSync(logs, kept, { recursive: true });
      log(`  ${scenario.name}: service logs kept in ${kept}`);
    }
    results.push(verdict);
  }
  const verdict: Verdict = withRca(
    {
      version: 1,
      run: {
        id: `${startedAt.toISOString().replace(/[-:.]/g, "")}-${crypto.randomBytes(3).toString("hex")}`,
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(performance.now() - t0),
        backend: stack.backend,
        tools: stack.tools,
        seed,
        defects,
        command: reproduceCommand(positionals, seed, stack.backend, defects, values.scenarios),
      },
      scenarios: results,
    },
    saved,
  );
  fs.writeFileSync(path.join(reportDir, "verdict.json"), `${JSON.stringify(verdict, null, 2)}\n`);
  fs.writeFileSync(path.join(reportDir, "junit.xml"), toJUnit(verdict));
  writeEvidenceFile(path.join(reportDir, "evidence.json"), {
    version: 1,
    runId: verdict.run.id,
    seed,
    scenarios: saved,
  });
  const report = writeHtmlReport(reportDir, verdict, saved);
  process.stdout.write(`\n${summaryTable(verdict)}\n`);
  const details = failureDetails(verdict);
  if (details) process.stdout.write(`\n${details}\n`);
  if (verdict.rca) process.stdout.write(`\n${rcaScoreLine(verdict.rca)}\n`);
  process.stdout.write(
    `\nreports: ${["verdict.json", "junit.xml", "evidence.json"].map((f) => path.join(reportDir, f)).join(", ")}\n`,
  );
  process.stdout.write(`${reportLine(report)}\n`);
  return signal.aborted ? 2 : exitCodeFor(verdict);
});

/** The command that runs the same scenarios the same way: names, seed, the backend that ran, defects, catalog. */
function reproduceCommand(
  names: readonly string[],
  seed: number,
  backend: string,
  defects: readonly string[],
  scenariosDir: string | undefined,
): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  const args = [
    ...names,
    "--seed",
    String(seed),
    "--backend",
    backend,
    ...(defects.length > 0 ? ["--defects", defects.join(",")] : []),
    ...(scenariosDir ? ["--scenarios", path.resolve(scenariosDir)] : []),
  ];
  return `npm run scenario -- ${args.map(quote).join(" ")}`;
}
