import fs from "node:fs";
import path from "node:path";
import type { FileResult, MutationTestResult, TestFile } from "mutation-testing-report-schema";
import type { MutantResult } from "./engine";
import { MUTATION_TARGET } from "./table";

/**
 * `npm run mutate`'s mutants in Stryker's mutation-testing-report-schema (schemaVersion 2), the format Stryker, PIT
 * and Infection write and `mutation-testing-elements` renders. Mapping: the file is the scenario's file, each mutant
 * sits on the line where the scenario declares the expectations it is judged by, each assertion is a test (in the
 * module that names its id), and `killedBy` lists the assertions that failed on it. Only Killed and Survived
 * occur, so the score the schema's viewers compute (killed / (killed + survived)) is meshproof's kill rate.
 */
export function strykerReport(
  results: readonly MutantResult[],
  options: {
    /** The project root the files' paths are relative to. */
    root: string;
    /** Each scenario's file (relative to root or absolute), from the run's verdict; absent when not known. */
    scenarioFiles: Readonly<Record<string, string | undefined>>;
    /** Stryker's `break` threshold (percent), when one was given. */
    breakAt?: number;
  },
): MutationTestResult {
  const files: Record<string, FileResult> = {};
  results.forEach((mutant, index) => {
    const file = scenarioFile(mutant.scenario, options);
    const entry = (files[file.path] ??= { language: "typescript", source: file.source, mutants: [] });
    entry.mutants.push({
      id: String(index + 1),
      mutatorName: mutant.operator,
      replacement: `${mutant.scenario}: ${mutant.change}`,
      location: file.location,
      status: mutant.killed ? "Killed" : "Survived",
      statusReason: mutant.killed
        ? `failed: ${mutant.killedBy.join(", ")}`
        : "no assertion failed on the changed evidence (a gap in the judge)",
      killedBy: mutant.killedBy,
    });
  });
  return {
    schemaVersion: "2",
    thresholds: {
      high: 100,
      low: MUTATION_TARGET * 100,
      ...(options.breakAt === undefined ? {} : { break: options.breakAt }),
    },
    projectRoot: options.root,
    files,
    testFiles: assertionTests(results, options.root),
    framework: { name: "meshproof" },
  };
}

/** A scenario's file as the report shows it: its path, source and the line of its expectations. */
function scenarioFile(
  scenario: string,
  options: { root: string; scenarioFiles: Readonly<Record<string, string | undefined>> },
) {
  const given = options.scenarioFiles[scenario];
  const absolute = given === undefined ? undefined : path.resolve(options.root, given);
  const source = absolute && fs.existsSync(absolute) ? fs.readFileSync(absolute, "utf8") : undefined;
  if (!absolute || source === undefined) {
    // Evidence without a verdict naming the file: the scenario stands for itself.
    const text = `// scenario ${scenario}: its file is not known (no verdict.json beside the evidence names it)\n`;
    return { path: `scenarios/${scenario}`, source: text, location: lineLocation(text, 0) };
  }
  const lines = source.split("\n");
  const at = Math.max(
    0,
    lines.findIndex((l) => /\bexpectations\b/.test(l)),
  );
  return { path: path.relative(options.root, absolute), source, location: lineLocation(source, at) };
}

/** The whole of one line (0-based index) as a location (1-based, end column past its last character). */
function lineLocation(source: string, index: number) {
  const line = source.split("\n")[index] ?? "";
  return { start: { line: index + 1, column: 1 }, end: { line: index + 1, column: line.length + 1 } };
}

/** Every assertion a mutant named, as a test of the module that declares its id (with its line), else of one file. */
function assertionTests(results: readonly MutantResult[], root: string): Record<string, TestFile> {
  const ids = [...new Set(results.flatMap((r) => r.killedBy))].sort();
  const modules = assertionSources(path.join(PROJECT_ROOT, "assertions"));
  const testFiles: Record<string, TestFile> = {};
  for (const id of ids) {
    const found = modules.find((m) => m.source.includes(`"${id}"`));
    const file = found ? path.relative(root, found.file) : "assertions";
    const test: TestFile["tests"][number] = { id, name: id };
    if (found) {
      const before = found.source.slice(0, found.source.indexOf(`"${id}"`)).split("\n");
      test.location = { start: { line: before.length, column: before.at(-1)!.length + 1 } };
    }
    (testFiles[file] ??= { tests: [] }).tests.push(test);
  }
  return testFiles;
}

/** meshproof's own folder (this module is dist/harness/mutate/stryker-report.js). */
const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

/**
 * The judge's TypeScript modules (the sources where they are; none in an install without them), those that declare
 * ids first (ids.ts, *-assertions.ts): others, such as a fault kind naming the id that notices it, only cite them.
 */
function assertionSources(dir: string): { file: string; source: string }[] {
  if (!fs.existsSync(dir)) return [];
  const declares = (f: string) => (/(^|\/)ids\.ts$|-assertions\.ts$/.test(f) ? 0 : 1);
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && path.basename(f) !== "explain.ts")
    .sort((a, b) => declares(a) - declares(b) || a.localeCompare(b))
    .map((f) => ({ file: path.join(dir, f), source: fs.readFileSync(path.join(dir, f), "utf8") }));
}

/** The report rendered by mutation-testing-elements, inlined: one file that opens offline. */
export function strykerHtml(report: MutationTestResult): string {
  const bundle = fs.readFileSync(require.resolve("mutation-testing-elements/mutation-test-elements.js"), "utf8");
  // </script> inside the JSON would end the script element early.
  const json = JSON.stringify(report).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>meshproof mutation report</title></head>
<body>
<mutation-test-report-app title-postfix="meshproof"></mutation-test-report-app>
<script>${bundle.replace(/<\/script/gi, "<\\/script")}</script>
<script>document.querySelector("mutation-test-report-app").report = ${json};</script>
</body>
</html>
`;
}
