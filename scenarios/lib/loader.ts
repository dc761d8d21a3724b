import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import type { z } from "zod";
import { loadModule } from "./module-loader";
import { sampleTopology } from "./sample-topology";
import { scenarioSchemaFor } from "./schema";
import { ScenarioError } from "./scenario-model";
import type { Scenario } from "./scenario-model";
import { isUnbound, type ScenarioTemplate, type Unbound } from "./template";
import type { MeshTopology } from "./topology";

/** Compiled scenarios live next to this folder: dist/scenarios/*.js. */
const DEFAULT_DIR = path.resolve(__dirname, "..");
/** Modules in the catalog folder that are not scenarios. */
const NOT_SCENARIOS = new Set(["index"]);

/** How a user knows the file: the TypeScript source for compiled output (dist/scenarios/x.js -> scenarios/x.ts). */
export function displayPath(file: string): string {
  const absolute = path.resolve(file);
  const marker = `${path.sep}dist${path.sep}`;
  const at = absolute.lastIndexOf(marker);
  if (at < 0) return path.relative(process.cwd(), absolute) || absolute;
  return absolute
    .slice(at + marker.length)
    .replace(/\.js$/, ".ts")
    .split(path.sep)
    .join("/");
}

function keyPath(segments: readonly PropertyKey[]): string {
  return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? String(s) : `.${String(s)}`)).join("");
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let value = root;
  for (const s of segments)
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[s] : undefined;
  return value;
}

function shown(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** One zod issue as "key.path must ... (got ...)". */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = keyPath(issue.path);
  const got = ` (got ${shown(valueAt(input, issue.path))})`;
  const prefix = where ? `${where} ` : "";
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => `${where ? `${where}.` : ""}${k} is not a known key`).join("; ");
    case "too_small":
      if (issue.origin === "array") return `${prefix}must have at least ${issue.minimum} item(s)${got}`;
      if (issue.origin === "string") return `${prefix}must not be empty`;
      return `${prefix}must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}${got}`;
    case "too_big": {
      // A bound declared with its reason (schema.ts BOUNDS) says it after the value.
      const why = issue.message.startsWith("Too big") ? "" : `: ${issue.message}`;
      return `${prefix}must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}${got}${why}`;
    }
    case "invalid_type":
      return `${prefix}must be ${issue.expected === "int" ? "an integer" : `a ${issue.expected}`}${got}`;
    case "invalid_value":
      return `${prefix}must be one of ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}${got}`;
    case "invalid_union":
      if ("options" in issue && Array.isArray(issue.options))
        return `${prefix}must be one of ${issue.options.map((v) => JSON.stringify(v)).join(" | ")}${got}`;
      return `${prefix}${issue.message}${got}`;
    default:
      return `${prefix}${issue.message}${got}`;
  }
}

/** Each service's operations in the mesh's routes: its hops' methods, and the routes for an edge. */
function operationsOf(mesh: MeshTopology): Record<string, string[]> {
  const operations: Record<string, Set<string>> = {};
  const add = (service: string, operation: string) => (operations[service] ??= new Set()).add(operation);
  for (const [route, { hops }] of Object.entries(mesh.routes)) {
    for (const hop of hops) if (hop.method) add(hop.to, hop.method);
    for (const [name, service] of Object.entries(mesh.services)) if (service.role === "edge") add(name, route);
  }
  return Object.fromEntries(Object.entries(operations).map(([service, ops]) => [service, [...ops]]));
}

/**
 * Validates a scenario value strictly against the mesh it runs on (default the sample mesh); throws ScenarioError
 * naming the file and every bad key path. A scenario file's name must equal its file name; a template's bound
 * scenario (`bound`) is named after its targets.
 */
export function validateScenario(
  value: unknown,
  file: string,
  mesh: MeshTopology = sampleTopology(),
  bound = false,
): Scenario {
  const names = {
    services: Object.keys(mesh.services),
    links: Object.keys(mesh.links),
    operations: operationsOf(mesh),
  };
  const parsed = scenarioSchemaFor(names).safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, value));
    throw new ScenarioError(`${displayPath(file)}: ${problems.join("; ")}`);
  }
  const expected = path.basename(file).replace(/\.[jt]s$/, "");
  if (!bound && parsed.data.name !== expected)
    throw new ScenarioError(
      `${displayPath(file)}: name must equal the file name "${expected}" (got ${JSON.stringify(parsed.data.name)})`,
    );
  return { ...parsed.data, file: displayPath(file) };
}

/** A catalog bound to a mesh: the scenarios that apply, and the templates that do not bind with why. */
export interface BoundCatalog {
  scenarios: Scenario[];
  unbound: Unbound[];
}

/**
 * Loads one catalog file, compiled (.js) or TypeScript (.ts): its default export is a scenario (validated as is) or a
 * template (bound to the mesh, then validated).
 */
export function loadScenario(file: string, mesh: MeshTopology = sampleTopology()): Scenario | Unbound {
  let exported: unknown;
  try {
    exported = (loadModule(path.resolve(file)) as { default?: unknown }).default;
  } catch (error) {
    // A module may throw anything (a string, an object): what it threw is shown, not "undefined".
    const thrown = error instanceof Error ? error.message : typeof error === "string" ? error : inspect(error);
    throw new ScenarioError(`${displayPath(file)}: cannot be loaded: ${thrown}`);
  }
  if (exported === undefined)
    throw new ScenarioError(
      `${displayPath(file)}: has no default export; write "export default defineScenario({...})" or defineTemplate`,
    );
  if (isTemplate(exported)) {
    const bound = exported.bind(mesh);
    return isUnbound(bound) ? { ...bound, file: displayPath(file) } : validateScenario(bound, file, mesh, true);
  }
  return validateScenario(exported, file, mesh);
}

function isTemplate(value: unknown): value is ScenarioTemplate {
  return typeof value === "object" && value !== null && typeof (value as ScenarioTemplate).bind === "function";
}

/**
 * Loads and binds every catalog file of a folder (default: the compiled catalog, dist/scenarios) to the mesh
 * (default the sample mesh), sorted by scenario name: compiled .js files or TypeScript .ts files as written (not both
 * of one name). Two files binding to one scenario name is an error.
 */
export function loadBoundCatalog(dir: string = DEFAULT_DIR, mesh: MeshTopology = sampleTopology()): BoundCatalog {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new ScenarioError(`scenario folder ${path.resolve(dir)} does not exist (or is not a folder)`);
  const files = readdirSync(dir).filter((f) => /^[^.].*(?<!\.d)\.[jt]s$/.test(f) && !NOT_SCENARIOS.has(f.slice(0, -3)));
  const byName = new Map<string, string>();
  for (const f of files) {
    const name = f.slice(0, -3);
    if (byName.has(name))
      throw new ScenarioError(`${path.join(dir, f)}: ${name}.js and ${name}.ts both exist; keep one of them`);
    byName.set(name, f);
  }
  const loaded = [...byName.values()].map((f) => ({ file: f, bound: loadScenario(path.join(dir, f), mesh) }));
  const scenarios: Scenario[] = [];
  const unbound: Unbound[] = [];
  for (const { file, bound } of loaded) {
    if (isUnbound(bound)) unbound.push(bound);
    else if (scenarios.some((s) => s.name === bound.name))
      throw new ScenarioError(
        `${path.join(dir, file)}: binds to scenario "${bound.name}", which another file binds too`,
      );
    else scenarios.push(bound);
  }
  return { scenarios: scenarios.sort((a, b) => a.name.localeCompare(b.name)), unbound };
}

/** The scenarios of loadBoundCatalog that bind to the mesh. */
export function loadCatalog(dir: string = DEFAULT_DIR, mesh: MeshTopology = sampleTopology()): Scenario[] {
  return loadBoundCatalog(dir, mesh).scenarios;
}

/** The scenarios with these names, in the order given; an unknown name throws listing the valid ones. */
export function selectScenarios(catalog: readonly Scenario[], names: readonly string[]): Scenario[] {
  return names.map((name) => {
    const scenario = catalog.find((s) => s.name === name);
    if (!scenario)
      throw new ScenarioError(`unknown scenario "${name}"; valid names: ${catalog.map((s) => s.name).join(", ")}`);
    return scenario;
  });
}
