import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Ajv from "ajv";
import { chromium } from "playwright-core";
import type { MutationTestResult } from "mutation-testing-report-schema";
import { loadBoundCatalog } from "../../scenarios/lib/loader";
import { sampleTopology } from "../../scenarios/lib/sample-topology";
import { resolveTool } from "../../harness/tools/tools";
import { DIST, runCli } from "../support/cli";

/** Stryker's schema as its npm package ships it (draft-07), not a copy. */
const SCHEMA = JSON.parse(
  fs.readFileSync(require.resolve("mutation-testing-report-schema/mutation-testing-report-schema.json"), "utf8"),
) as object;
const FIXTURE = path.resolve(DIST, "../test/fixtures/evidence/catalog.json.gz");

/** The score Stryker's viewers compute: detected over valid mutants (no timeouts or no-coverage here). */
function score(report: MutationTestResult): number {
  const mutants = Object.values(report.files).flatMap((f) => f.mutants);
  const killed = mutants.filter((m) => m.status === "Killed" || m.status === "Timeout").length;
  const valid = mutants.filter((m) => ["Killed", "Survived", "Timeout", "NoCoverage"].includes(m.status)).length;
  return killed / valid;
}

describe("npm run mutate in the formats mutation testers read (Stryker's report schema)", () => {
  // A real catalog run's evidence and the scenario files its verdict names.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-stryker-"));
  beforeAll(() => {
    fs.copyFileSync(FIXTURE, path.join(dir, "evidence.json.gz"));
    const catalog = loadBoundCatalog(undefined, sampleTopology()).scenarios;
    const scenarios = catalog.map((s) => ({ name: s.name, file: s.file }));
    fs.writeFileSync(path.join(dir, "verdict.json"), JSON.stringify({ version: 2, scenarios }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("mutation-report.json is valid against the schema; its score is the kill rate; mutants sit in scenario files", async () => {
    const result = await runCli("harness/cli/mutate.js", ["--report-dir", dir, "--per-operator", "1"]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^stryker: \S+mutation-report\.json, \S+mutation-report\.html$/m);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "mutation-report.json"), "utf8")) as MutationTestResult;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(SCHEMA);
    expect(validate(report) ? [] : validate.errors).toEqual([]);
    const mutation = JSON.parse(fs.readFileSync(path.join(dir, "mutation.json"), "utf8")) as {
      killRate: number;
      total: { mutants: number };
    };
    expect(score(report)).toBe(mutation.killRate);
    const mutants = Object.values(report.files).flatMap((f) => f.mutants);
    expect(mutants).toHaveLength(mutation.total.mutants);
    // The files are the scenarios' sources; each mutant's line is where its scenario declares its expectations.
    for (const [file, entry] of Object.entries(report.files)) {
      expect(file).toMatch(/^scenarios\/[\w-]+\.ts$/);
      const line = entry.source.split("\n")[entry.mutants[0]!.location.start.line - 1];
      expect(line).toMatch(/expectations/);
    }
    // Every killing assertion is a test, located in the module that declares its id.
    const tests = Object.entries(report.testFiles!).flatMap(([file, t]) => t.tests.map((x) => ({ file, ...x })));
    const killers = new Set(mutants.flatMap((m) => m.killedBy ?? []));
    expect(killers.size).toBeGreaterThan(0);
    expect(tests.map((t) => t.id).sort()).toEqual([...killers].sort());
    for (const t of tests)
      expect([t.id, t.file, t.location?.start.line]).toEqual([
        t.id,
        expect.stringMatching(/^assertions\//),
        expect.any(Number),
      ]);
  }, 120_000);

  test("--break is Stryker's threshold: a score at or above it exits 0; an impossible one is a usage error", async () => {
    const at = await runCli("harness/cli/mutate.js", ["--report-dir", dir, "--per-operator", "1", "--break", "90"]);
    expect(at.code).toBe(0);
    expect(at.stdout).toMatch(/break below 90%/);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "mutation-report.json"), "utf8")) as MutationTestResult;
    expect(report.thresholds).toEqual({ high: 100, low: 95, break: 90 });
    const bad = await runCli("harness/cli/mutate.js", ["--report-dir", dir, "--break", "101"]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("--break must be a percentage within 0..100")]);
  }, 120_000);

  test("mutation-report.html renders offline in Chromium with no console error and shows the same score", async () => {
    const file = path.join(dir, "mutation-report.html");
    expect(fs.existsSync(file)).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "mutation-report.json"), "utf8")) as MutationTestResult;
    const browser = await resolveTool("chromium");
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-chromium-"));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => !r.url().startsWith("file:") && requests.push(r.url()));
      await page.goto(`file://${file}`);
      // The app's metrics table, inside its shadow roots (Playwright's CSS locators pierce open ones).
      const shown = (100 * score(report)).toFixed(2);
      await page.locator("mte-metrics-table").getByText(shown, { exact: true }).first().waitFor({ timeout: 15_000 });
      expect({ errors, requests }).toEqual({ errors: [], requests: [] });
    } finally {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
