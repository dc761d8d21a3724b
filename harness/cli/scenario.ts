import path from "node:path";
import { loadBoundCatalog } from "../../scenarios";
import { checkBackendName, DEFAULT_BACKEND } from "../backends";
import { env } from "../config/env";
import { ConfigError } from "../errors";
import { capacityFile } from "../load/capacity";
import { MESH_RUNTIMES } from "../mesh/mesh-runtime";
import { DEFAULT_REPORTERS, REPORTERS, reportersFor } from "../report/reporters";
import { exitCodeFor } from "../report/verdict";
import { prepareReportDir } from "../report/report-dir";
import { measureCapacityOnly, runCatalog } from "../run/run-catalog";
import { abortOnSignals, parseCliArgs, runCli } from "./run-cli";
import {
  catalogListing,
  meshConfigFile,
  meshTopologyOf,
  parseSeed,
  sampleMeshOptions,
  selectScenarios,
  withDriver,
  parseWorkers,
  reportDirOf,
} from "./scenario-options";

const USAGE = `usage: npm run scenario -- [NAME ...] [options]
  NAME             scenarios to run (default: the whole catalog)
  --report-dir     where verdict.json, junit.xml, evidence.json.gz and report.html go (default reports/latest)
  --keep           N: move the report dir's previous run to runs/<run id> beside it and keep the newest N there
                   (default 0: the previous run's files are replaced)
  --reporter       outputs, comma-separated: ${Object.keys(REPORTERS).join(", ")} (default: all of them)
  --backend        backend for Jaeger, Prometheus, Redis, Toxiproxy: auto (default: docker when an engine answers
                   and the images are built, else native), native, docker
  --mesh-runtime   where the sample mesh runs: ${MESH_RUNTIMES.join(", ")} (default: the backend's; a docker backend
                   runs the services as containers)
  --trace-store    jaeger (default) or zipkin: where the services send spans and the judge reads them; zipkin
                   starts a Zipkin server (npm run setup provisions it) and points the exporters at it
  --seed           seed for load and fault decisions: an integer within 0..4294967295 (default 1)
  --driver         inline or k6: drive every scenario's load with it (default: each scenario's own, inline unless it
                   says k6); k6 is a separate program, installed by npm run setup -- --with k6
  --workers        scenarios at once, each on its own mesh: N, or auto (default: what the machine takes, from its
                   cores, free memory and the mesh's capacity; 1 for a mesh meshproof did not start). A scenario
                   whose load or fault takes the machine (cpu, memory-pressure, stall, load, saturation) runs alone
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
or none could be judged (all not applicable), 3 none failed but one was inconclusive (a fault without its effect),
130 interrupted by SIGINT (Ctrl-C): the verdict says so and names the scenarios it kept from running`;

runCli(async () => {
  const { values, positionals } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      reporter: { type: "string", default: DEFAULT_REPORTERS.join(",") },
      keep: { type: "string", default: "0" },
      backend: { type: "string", default: DEFAULT_BACKEND },
      "mesh-runtime": { type: "string" },
      "trace-store": { type: "string" },
      seed: { type: "string", default: "1" },
      driver: { type: "string" },
      workers: { type: "string", default: "auto" },
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
  // Every argument is checked before anything is removed, created or started: a bad one costs nothing.
  const seed = parseSeed(values.seed);
  const reportDir = reportDirOf(values["report-dir"]);
  const keep = Number(values.keep);
  if (!/^\d+$/.test(values.keep) || !Number.isSafeInteger(keep))
    throw new ConfigError(`--keep must be an integer >= 0 (got "${values.keep}")`);
  checkBackendName(values.backend);
  const workers = parseWorkers(values.workers);
  const sample = sampleMeshOptions(values);
  const configFile = meshConfigFile(values);
  const topology = meshTopologyOf(configFile, sample);
  const catalog = loadBoundCatalog(values.scenarios, topology);
  if (catalog.scenarios.length + catalog.unbound.length === 0)
    throw new ConfigError(
      `no scenario in ${values.scenarios ? path.resolve(values.scenarios) : "the built-in catalog"}: expected files exporting defineScenario({...}) or defineTemplate({...}) as default`,
    );
  if (values.list) {
    process.stdout.write(catalogListing(catalog, topology));
    return 0;
  }
  const scenarios = withDriver(selectScenarios(catalog.scenarios, positionals), values.driver);
  const reporter = reportersFor(values.reporter.split(",").filter(Boolean), {
    reportDir,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  const signal = abortOnSignals();
  const options = {
    scenarios,
    unbound: positionals.length ? [] : catalog.unbound,
    seed,
    workers,
    ...(configFile ? { configFile, attached: values.attach !== undefined } : {}),
    sample,
    remeasureCapacity: values["measure-capacity"] ?? false,
    reportDir,
    reporter,
    signal,
    argv: process.argv.slice(2),
  };
  if (values["measure-capacity"] && positionals.length === 0) {
    const capacity = await measureCapacityOnly(options);
    process.stdout.write(`capacity ${capacity.ratePerSec} req/s (${capacity.key}), stored in ${capacityFile()}\n`);
    return 0;
  }
  // Writable (created if absent) before any tool starts; then only what a run recorded writing there goes.
  const kept = prepareReportDir(reportDir, keep);
  if (kept.archived) process.stderr.write(`previous run kept in ${kept.archived}\n`);
  for (const gone of kept.pruned) process.stderr.write(`removed ${gone} (--keep ${keep})\n`);
  const verdict = await runCatalog(options);
  for (const error of reporter.errors) process.stderr.write(`meshproof: ${error}\n`);
  if (reporter.errors.length) return 2;
  // Interrupted: 130 for SIGINT (Ctrl-C, as shells report it), 2 (aborted) for SIGTERM.
  return signal.aborted ? (verdict.run.interrupted === "SIGINT" ? 130 : 2) : exitCodeFor(verdict);
});
