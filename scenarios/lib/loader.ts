import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { loadModule } from "./module-loader";
import { scenarioSchema } from "./schema";
import { ScenarioError } from "./scenario-model";
import type { Scenario } from "./scenario-model";

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
    case "too_big":
      return `${prefix}must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}${got}`;
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

/** Validates a scenario value strictly; throws ScenarioError naming the file and every bad key path. */
export function validateScenario(value: unknown, file: string): Scenario {
  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, value));
    throw new ScenarioError(`${displayPath(file)}: ${problems.join("; ")}`);
  }
  const expected = path.basename(file).replace(/\.[jt]s$/, "");
  if (parsed.data.name !== expected)
    throw new ScenarioError(
      `${displayPath(file)}: name must equal the file name "${expected}" (got ${JSON.stringify(parsed.data.name)})`,
    );
  return parsed.data;
}

/** Loads one scenario file, compiled (.js) or TypeScript (.ts), takes its default export and validates it. */
export function loadScenario(file: string): Scenario {
  let exported: unknown;
  try {
    exported = (loadModule(path.resolve(file)) as { default?: unknown }).default;
  } catch (error) {
    throw new ScenarioError(`${displayPath(file)}: cannot be loaded: ${(error as Error).message}`);
  }
  if (exported === undefined)
    throw new ScenarioError(
      `${displayPath(file)}: has no default export; write "export default defineScenario({...})"`,
    );
  return validateScenario(exported, file);
}

/**
 * Loads and validates every scenario of a folder (default: the compiled catalog, dist/scenarios), sorted by name:
 * compiled .js files or TypeScript .ts files as written (not both of one name).
 */
export function loadCatalog(dir: string = DEFAULT_DIR): Scenario[] {
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
  return [...byName.values()].map((f) => loadScenario(path.join(dir, f))).sort((a, b) => a.name.localeCompare(b.name));
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
