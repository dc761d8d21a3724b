import fs from "node:fs";
import path from "node:path";
import type { TelemetryContract } from "../../assertions/contract";
import type { BoundCatalog } from "../../scenarios/lib/loader";
import { sampleTopology } from "../../scenarios/lib/sample-topology";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import type { MeshTopology } from "../../scenarios/lib/topology";
import { topologyOf } from "../config/config-topology";
import { loadMeshConfig } from "../config/mesh-config";
import { TRACE_STORE_NAMES, type TraceStoreName } from "../backends";
import { configMeans } from "../mesh/external-mesh";
import { whyNotApplicable } from "../mesh/target";
import { composeConfigPath, composeProject } from "../compose/compose";
import { ConfigError } from "../errors";
import { resolveContract } from "../mesh/external-mesh";
import { checkDefects, MESH_SERVICES, SAMPLE_MESH, type Impl, type MeshServiceName } from "../mesh/mesh";
import { MESH_RUNTIMES } from "../mesh/mesh-runtime";
import type { SampleMeshOptions } from "../run/run-catalog";

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

/** The scenarios named (default all), in run order: those needing a mesh of their own (a sampling ratio) last. */
export function selectScenarios(catalog: readonly Scenario[], names: readonly string[]): Scenario[] {
  const known = catalog.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    throw new ConfigError(
      `unknown scenario${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; valid names: ${known.join(", ")}`,
    );
  // A switch of sampling ratio costs a mesh start: such scenarios run grouped, at the end.
  return (names.length > 0 ? catalog.filter((s) => names.includes(s.name)) : catalog)
    .map((s, i) => ({ s, i, key: s.mesh?.samplingRatio ?? -1 }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map(({ s }) => s);
}

/** --driver: every scenario's load driven by it; k6 thresholds go with k6 (inline cannot evaluate them). */
export function withDriver(scenarios: Scenario[], driver: string | undefined): Scenario[] {
  if (driver === undefined) return scenarios;
  if (driver !== "inline" && driver !== "k6") throw new ConfigError(`--driver ${driver}: valid values: inline, k6`);
  const dropped = scenarios.filter((s) => driver === "inline" && s.load.thresholds).map((s) => s.name);
  if (dropped.length > 0)
    throw new ConfigError(
      `--driver inline: ${dropped.join(", ")} declare${dropped.length === 1 ? "s" : ""} k6 thresholds, which only k6 evaluates; run without --driver or with --driver k6`,
    );
  return scenarios.map((s) => ({ ...s, load: { ...s.load, driver } }));
}

/** The largest seed: load and fault decisions take a 32-bit seed, so a larger one would alias a smaller one. */
export const MAX_SEED = 2 ** 32 - 1;

/** --seed: an integer within 0..MAX_SEED, in decimal digits ("" is not 0, 1e3 not 1000). */
export function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || seed > MAX_SEED)
    throw new ConfigError(
      `--seed must be an integer within 0..${MAX_SEED} (got "${value}"): load and fault decisions take a 32-bit seed`,
    );
  return seed;
}

/** --report-dir as an absolute path; an empty one (which would mean the current folder) is a usage error. */
export function reportDirOf(value: string): string {
  if (value.trim() === "")
    throw new ConfigError(
      `--report-dir is empty (it would mean the current folder): name a folder, e.g. --report-dir reports/latest`,
    );
  return path.resolve(value);
}

/** The sample mesh's options from the flags that shape it, each checked against what the mesh has. */
export function sampleMeshOptions(values: {
  backend: string;
  "mesh-runtime"?: string;
  "trace-store"?: string;
  defects: string;
  impl: string[];
  contract: string[];
  "service-env": string[];
}): SampleMeshOptions {
  const runtime = values["mesh-runtime"];
  if (runtime !== undefined && !(MESH_RUNTIMES as readonly string[]).includes(runtime))
    throw new ConfigError(`--mesh-runtime ${runtime}: valid values: ${MESH_RUNTIMES.join(", ")}`);
  const traceStore = values["trace-store"];
  if (traceStore !== undefined && !(TRACE_STORE_NAMES as readonly string[]).includes(traceStore))
    throw new ConfigError(`--trace-store ${traceStore}: valid values: ${TRACE_STORE_NAMES.join(", ")}`);
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
  const contracts: Partial<Record<MeshServiceName, TelemetryContract>> = {};
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
  return {
    backend: values.backend,
    ...(runtime ? { meshRuntime: runtime } : {}),
    ...(traceStore ? { traceStore: traceStore as TraceStoreName } : {}),
    defects,
    impl,
    contracts,
    serviceEnv,
  };
}

/**
 * The config file of the mesh to judge, if any: --config FILE, or the one `npm run compose:up` wrote (--attach
 * compose). Flags that shape the sample mesh do not apply to one meshproof did not start.
 */
export function meshConfigFile(values: {
  config?: string;
  attach?: string;
  defects: string;
  impl: string[];
  contract: string[];
  "service-env": string[];
  "mesh-runtime"?: string;
  "trace-store"?: string;
}): string | undefined {
  if (values.attach !== undefined && values.attach !== "compose")
    throw new ConfigError(`--attach ${values.attach}: the only deployment to attach to is "compose"`);
  if (values.attach && values.config)
    throw new ConfigError("--attach compose and --config both name the mesh: give one");
  const file = values.attach ? attachedConfig() : values.config;
  const shaping = [
    values.defects.trim(),
    ...values.impl,
    ...values["service-env"],
    ...values.contract,
    values["mesh-runtime"],
    values["trace-store"],
  ];
  if (file && shaping.some(Boolean))
    throw new ConfigError(
      `${values.attach ? "--attach compose" : "--config"} judges a mesh meshproof did not start: --defects, --impl, --contract, --service-env, --mesh-runtime and --trace-store do not apply (its config names its contracts and trace store)`,
    );
  return file;
}

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

/** The mesh the catalog binds to: the config's (with the means the harness will have on it), else the sample mesh. */
export function meshTopologyOf(configFile: string | undefined, sample: SampleMeshOptions): MeshTopology {
  if (!configFile) return sampleTopology(sample.impl);
  const config = loadMeshConfig(configFile);
  return topologyOf(config, configMeans(config));
}

/** The catalog bound to the mesh, one line per scenario (what it injects, where; or why the mesh cannot take it). */
export function catalogListing(catalog: BoundCatalog, mesh: MeshTopology): string {
  const lines = catalog.scenarios.map((s) => {
    const faults = s.faults.map((f) => `${f.kind} ${f.target}`).join(", ") || "no fault";
    const why = whyNotApplicable(s.faults, mesh, s.mesh?.samplingRatio);
    return `${s.name.padEnd(20)} ${faults}${why ? `  (not applicable: ${why})` : ""}`;
  });
  const unbound = catalog.unbound.map((u) => `${u.template.padEnd(20)} (does not bind: ${u.reason})`);
  return `${[`catalog bound to ${mesh.name}:`, ...lines, ...unbound].join("\n")}\n`;
}

/** --workers: a count of scenarios at once, or "auto" (what the machine can take); a usage error otherwise. */
export function parseWorkers(value: string): number | "auto" {
  if (value === "auto") return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`--workers must be "auto" or an integer >= 1 (got "${value}")`);
  return n;
}
