import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { judgeRun } from "../assertions";
import { rcaScoreLine } from "../assertions/rca";
import { loadCatalog } from "../scenarios";
import { createBackend, DEFAULT_BACKEND, type StartedStack } from "./backends";
import { Progress } from "./cli/progress";
import { abortOnSignals, parseCliArgs, runCli } from "./cli/run-cli";
import { env, runRootDir } from "./config/env";
import { ConfigError } from "./errors";
import { failureDetails, summaryTable, wallTimeLine } from "./report/console";
import { toJUnit } from "./report/junit";
import { exitCodeFor, type ScenarioVerdict, type Verdict } from "./report/verdict";
import { loadMeshConfig } from "./config/mesh-config";
import { externalMeshTarget, resolveContract } from "./mesh/external-mesh";
import { checkDefects, MESH_SERVICES, SAMPLE_MESH, type Impl, type MeshServiceName } from "./mesh/mesh";
import { composeConfigPath, composeProject } from "./compose/compose";
import { chooseMeshLauncher, MESH_RUNTIMES } from "./mesh/mesh-runtime";
import { sampleMeshTarget, type MeshTarget } from "./mesh/target";
import { writeEvidenceFile, type SavedScenario } from "./report/evidence-file";
import { reportLine, writeHtmlReport } from "./report/html-report";
import { localizeScenario, withRca } from "./report/localize-run";
import { atCapacity, capacityFile, capacityFor } from "./load/capacity";
import { runScenario } from "./run";
import { provisionTools } from "./tools/provision";
import { RUN_TOOL_NAMES } from "./tools/tools";

const USAGE = `usage: npm run scenario -- [NAME ...] [options]
  NAME             scenarios to run (default: the whole catalog)
  --report-dir     where verdict.json, junit.xml, evidence.json and report.html go (default reports/latest)
  --backend        backend for Jaeger, Prometheus, Redis, Toxiproxy: auto (default: docker when an engine answers
                   and the images are built, else native), native, docker
  --mesh-runtime   where the sample mesh runs: ${MESH_RUNTIMES.join(", ")} (default: the backend's; a docker backend
                   runs the services as containers)
  --seed           seed for load and fault decisions (default 1)
  --scenarios      a folder of scenario files, .ts as written or compiled .js (default the built-in catalog)
  --defects        comma-separated mesh defects to switch on (negative controls): NAME in every service,
                   SERVICE:NAME in one
  --impl           SERVICE=IMPL: run another implementation of a service (payments=go); repeatable
  --contract       FILE, or SERVICE=FILE: judge every service (or one) by this telemetry contract (JSON; or the
                   built-in "node" / "go"); repeatable
  --service-env    SERVICE:VAR=VALUE: an environment variable for one service (OTEL_* ones reach its SDK); repeatable
  --config         FILE: judge a mesh meshproof did not start, described by defineConfig() (.ts/.js) or JSON
  --attach         compose: judge the running compose deployment (npm run compose:up wrote its config)
  --measure-capacity  measure the mesh's capacity on this machine again and store it (npm run capacity); with no
                   NAME, only that
  --list           print the catalog and exit
exit codes: 0 every judged scenario passed, 1 an assertion failed, 2 usage/config/setup error, a scenario aborted,
or none could be judged (all not applicable), 3 none failed but one was inconclusive (a fault without its effect)`;

/** Splits "KEY=VALUE" (or "SERVICE:VAR=VALUE"), naming the flag and the expected shape when it does not fit. */
function pair(flag: string, value: string, separator: string, shape: string): [string, string] {
  const at = value.indexOf(separator);
  if (at <= 0 || at === value.length - 1) throw new ConfigError(`${flag} ${value}: expected ${shape}`);
  return [value.slice(0, at), value.slice(at + 1)];
}

function meshService(flag: string, name: string): MeshServiceName {
  if (!(MESH_SERVICES as readonly string[]).includes(name))
    throw new ConfigError(`${flag}: unknown service "${name}"; services: ${MESH_SERVICES.join(", ")}`);
  return name as MeshServiceName;
}

runCli(async () => {
  const { values, positionals } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      backend: { type: "string", default: DEFAULT_BACKEND },
      "mesh-runtime": { type: "string" },
      seed: { type: "string", default: "1" },
      scenarios: { type: "string" },
      defects: { type: "string", default: env("MESHPROOF_DEFECTS") ?? "" },
      impl: { type: "string", multiple: true, default: [] },
      contract: { type: "string", multiple: true, default: [] },
      "service-env": { type: "string", multiple: true, default: [] },
      config: { type: "string" },
      attach: { type: "string" },
      list: { type: "boolean" },
      "measure-capacity": { type: "boolean" },
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
  const requestedRuntime = values["mesh-runtime"];
  if (requestedRuntime !== undefined && !(MESH_RUNTIMES as readonly string[]).includes(requestedRuntime))
    throw new ConfigError(`--mesh-runtime ${requestedRuntime}: valid values: ${MESH_RUNTIMES.join(", ")}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new ConfigError(`--seed must be an integer (got "${values.seed}")`);
  // Scenarios that need a mesh of their own (another sampling ratio) run last, grouped: a switch costs a mesh start.
  const selected = (positionals.length > 0 ? catalog.filter((s) => positionals.includes(s.name)) : catalog)
    .map((s, i) => ({ s, i, key: s.mesh?.samplingRatio ?? -1 }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map(({ s }) => s);
  const defects = values.defects
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
  checkDefects(defects);
  const impl: Partial<Record<MeshServiceName, Impl>> = {};
  for (const value of values.impl.flatMap((v) => v.split(","))) {
    const [name, choice] = pair("--impl", value, "=", "SERVICE=IMPL (payments=go)");
    const service = meshService("--impl", name);
    if (!(SAMPLE_MESH[service].impls as readonly string[]).includes(choice))
      throw new ConfigError(`--impl ${value}: ${service} implementations: ${SAMPLE_MESH[service].impls.join(", ")}`);
    impl[service] = choice as Impl;
  }
  const contracts: Partial<Record<MeshServiceName, ReturnType<typeof resolveContract>>> = {};
  for (const value of values.contract) {
    const [name, file] = value.includes("=") ? pair("--contract", value, "=", "FILE or SERVICE=FILE") : ["", value];
    const contract = resolveContract(file, process.cwd());
    for (const service of name ? [meshService("--contract", name)] : MESH_SERVICES) contracts[service] = contract;
  }
  const serviceEnv: Partial<Record<MeshServiceName, Record<string, string>>> = {};
  for (const value of values["service-env"]) {
    const [name, assignment] = pair("--service-env", value, ":", "SERVICE:VAR=VALUE");
    const [variable, setting] = pair("--service-env", assignment, "=", "SERVICE:VAR=VALUE");
    const service = meshService("--service-env", name);
    serviceEnv[service] = { ...serviceEnv[service], [variable]: setting };
  }
  if (values.attach !== undefined && values.attach !== "compose")
    throw new ConfigError(`--attach ${values.attach}: the only deployment to attach to is "compose"`);
  if (values.attach && values.config)
    throw new ConfigError("--attach compose and --config both name the mesh: give one");
  const configFile = values.attach ? attachedConfig() : values.config;
  if (
    configFile &&
    (defects.length ||
      values.impl.length ||
      values["service-env"].length ||
      values.contract.length ||
      values["mesh-runtime"])
  )
    throw new ConfigError(
      `${values.attach ? "--attach compose" : "--config"} judges a mesh meshproof did not start: --defects, --impl, --contract, --service-env and --mesh-runtime do not apply (its config names its contracts)`,
    );
  const reportDir = path.resolve(values["report-dir"]);
  fs.mkdirSync(reportDir, { recursive: true });
  fs.rmSync(path.join(reportDir, "logs"), { recursive: true, force: true }); // a previous run's kept logs
  const signal = abortOnSignals();
  // Progress on stderr (stdout is the verdict): a live line on a terminal, plain lines elsewhere.
  const progress = new Progress(process.stderr);
  const log = progress.log;

  const startedAt = new Date();
  const t0 = performance.now();
  let stack: StartedStack | undefined;
  let meshRuntime: string | undefined;
  let target: MeshTarget;
  if (configFile) {
    const config = loadMeshConfig(configFile);
    // Nothing of an external mesh is written under it: its logs are the services' own files.
    target = externalMeshTarget(config, configFile, path.join(runRootDir(), "external"));
    log(`judging ${target.description}`);
  } else {
    let t = performance.now();
    // Everything a scenario may need (the k6 driver, the Go payments) is provisioned up front: missing tools are built once.
    const tools = await provisionTools({ tools: RUN_TOOL_NAMES, log });
    log(`setup ${Math.round(performance.now() - t)} ms`);
    t = performance.now();
    stack = await createBackend(values.backend).start({ tools });
    log(`backend start ${Math.round(performance.now() - t)} ms (${stack.backend}, run dir ${stack.runDir})`);
    try {
      const choice = await chooseMeshLauncher(values["mesh-runtime"], stack, {
        backendRequested: values.backend,
        impls: MESH_SERVICES.map((s) => impl[s] ?? "node"),
        tools,
        log,
      });
      meshRuntime = choice.runtime;
      log(`mesh runtime: ${choice.runtime} (${choice.reason})`);
      target = sampleMeshTarget(stack, { seed, defects, impl, contracts, serviceEnv, launcher: choice.launcher });
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  try {
    // Load scenarios take shares of the mesh's capacity on this machine: stored, or measured once now.
    const measureOnly = values["measure-capacity"] && positionals.length === 0;
    const capacity =
      values["measure-capacity"] || selected.some((s) => s.load.rateUnit === "capacity")
        ? await capacityFor(target, configFile ? `external ${path.resolve(configFile)}` : target.description, {
            remeasure: values["measure-capacity"] ?? false,
            log,
            signal,
          })
        : undefined;
    if (measureOnly) {
      process.stdout.write(`capacity ${capacity!.ratePerSec} req/s (${capacity!.key}), stored in ${capacityFile()}\n`);
      return 0;
    }
    const results: ScenarioVerdict[] = [];
    const saved: SavedScenario[] = [];
    for (const planned of selected) {
      if (signal.aborted) break;
      const scenario = capacity ? atCapacity(planned, capacity.ratePerSec) : planned;
      log(`scenario ${scenario.name}`);
      const run = await runScenario(scenario, { target, seed, signal, log, progress, evaluate: judgeRun });
      if (planned.load.rateUnit === "capacity") run.verdict.measurements.capacityPerSec = capacity!.ratePerSec;
      const verdict = run.verdict;
      if (run.evidence) {
        const entry = { name: scenario.name, expectations: scenario.expectations, evidence: run.evidence };
        saved.push(entry);
        verdict.rca = localizeScenario(entry);
      }
      log(
        `  ${scenario.name}: ${verdict.status.toUpperCase()} in ${verdict.durationMs} ms${verdict.abortReason ? `: ${verdict.abortReason}` : ""}`,
      );
      const logFiles = run.logFiles.filter((f) => fs.existsSync(f));
      if (verdict.status !== "passed" && logFiles.length) {
        // The run directory goes away with the stack: keep the evidence of what did not pass.
        const kept = path.join(reportDir, "logs", scenario.name);
        fs.mkdirSync(kept, { recursive: true });
        for (const file of logFiles) fs.copyFileSync(file, path.join(kept, path.basename(file)));
        log(`  ${scenario.name}: service logs kept in ${kept}`);
      }
      results.push(verdict);
    }
    const verdict: Verdict = withRca(
      {
        version: 2,
        run: {
          id: `${startedAt.toISOString().replace(/[-:.]/g, "")}-${crypto.randomBytes(3).toString("hex")}`,
          startedAt: startedAt.toISOString(),
          durationMs: Math.round(performance.now() - t0),
          backend: stack?.backend ?? (values.attach ? "compose" : "external"),
          tools: stack?.tools ?? {},
          seed,
          mesh: {
            description: target.description,
            impl: configFile ? {} : Object.fromEntries(MESH_SERVICES.map((s) => [s, impl[s] ?? "node"])),
          },
          defects,
          ...(capacity ? { capacity } : {}),
          command: reproduceCommand({ backend: stack?.backend, "mesh-runtime": meshRuntime }, seed),
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
    process.stdout.write(`${wallTimeLine(verdict)}\n`);
    process.stdout.write(
      `\nreports: ${["verdict.json", "junit.xml", "evidence.json"].map((f) => path.join(reportDir, f)).join(", ")}\n`,
    );
    process.stdout.write(`${reportLine(report)}\n`);
    return signal.aborted ? 2 : exitCodeFor(verdict);
  } finally {
    await target.close();
    await stack?.stop();
  }
});

/** The config `npm run compose:up` wrote for the project; a ConfigError naming the command when there is none. */
function attachedConfig(): string {
  const project = composeProject();
  const file = composeConfigPath(project);
  if (!fs.existsSync(file))
    throw new ConfigError(
      `--attach compose: no compose deployment of project "${project}" is up (no ${file}); run "npm run compose:up" first`,
    );
  return file;
}

/**
 * The command that runs the same scenarios the same way: the arguments given, with the seed, the backend and the mesh
 * runtime that ran pinned (choices made by default made explicit).
 */
function reproduceCommand(chosen: Record<"backend" | "mesh-runtime", string | undefined>, seed: number): string {
  const pinned = ["--seed", ...Object.keys(chosen).map((k) => `--${k}`)];
  const given = process.argv
    .slice(2)
    .filter(
      (a, i, all) =>
        !pinned.includes(all[i - 1] ?? "") && !pinned.includes(a) && !pinned.some((p) => a.startsWith(`${p}=`)),
    );
  const args = [
    ...given,
    "--seed",
    String(seed),
    ...Object.entries(chosen).flatMap(([k, v]) => (v ? [`--${k}`, v] : [])),
  ];
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  return `npm run scenario -- ${args.map(quote).join(" ")}`;
}
