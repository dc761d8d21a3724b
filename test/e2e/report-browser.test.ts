import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { evaluate } from "../../assertions/evaluate";
import { groupFailures } from "../../assertions/explain";
import type { Evidence } from "../../assertions/evidence";
import { execFileSync } from "node:child_process";
import type { MeshConfig } from "../../harness/config/mesh-config";
import { evidenceFileIn, readEvidenceFile, type SavedScenario } from "../../harness/report/evidence-file";
import { writeHtmlReport } from "../../harness/report/html-report";
import { localize } from "../../assertions/rca";
import { scoreRun } from "../../harness/run/score-run";
import { scenarioStatus, type Verdict } from "../../harness/report/verdict";
import { OPERATORS } from "../../harness/mutate/operators";
import { resolveTool } from "../../harness/tools/tools";
import { createRng } from "../../harness/util/rng";
import { catalogFixture } from "../support/evidence-fixture";
import { DIST, runCli, whyFailed } from "../support/cli";

/** The verdict with its run's RCA score, as `npm run scenario` writes it. */
function withScore(verdict: Verdict, saved: readonly SavedScenario[]): Verdict {
  return { ...verdict, rca: scoreRun(verdict.scenarios, saved) };
}

/** Where the reports and their screenshots stay for a human to look at (reports/ is ignored by git). */
const OUT = path.resolve(__dirname, "../../../reports/e2e-report-browser");

/** A verdict as `npm run scenario` writes it, judged now from saved evidence. */
function judge(saved: readonly SavedScenario[], defects: string[] = []): Verdict {
  const scenarios = saved.map((s) => {
    const assertions = evaluate(s.evidence, s.expectations);
    const truth = s.evidence.requests.reduce<Record<string, number>>((acc, r) => {
      acc[r.status] = (acc[r.status] ?? 0) + 1;
      return acc;
    }, {});
    return {
      name: s.name,
      status: scenarioStatus(assertions),
      durationMs: s.evidence.window.endMs - s.evidence.window.startMs,
      groundTruth: { requests: s.evidence.requests.length, byStatus: truth, faults: s.evidence.faults },
      phases: {},
      measurements: {},
      assertions,
      rca: localize(s.evidence, { topology: s.expectations.topology }),
    };
  });
  return withScore(
    {
      version: 2,
      run: {
        id: "browser-test",
        startedAt: new Date(saved[0]!.evidence.window.startMs).toISOString(),
        durationMs: 60_000,
        backend: "native",
        tools: { jaeger: "v1.76.0", prometheus: "2.42.0+ds", redis: "7.0.15", toxiproxy: "v2.5.0" },
        seed: 1,
        mesh: { description: "sample mesh (native processes)", impl: {} },
        defects,
        command: "npm run scenario -- --seed 1 --backend native",
      },
      scenarios,
    },
    saved,
  );
}

/** The fixture with payments-errors' evidence mutated so traces.error-path fails (an ERROR span off the failure path). */
function failingCatalog(): SavedScenario[] {
  const operator = OPERATORS.find((o) => o.name === "error-off-path")!;
  return catalogFixture().map((s) => {
    if (s.name !== "payments-errors") return s;
    const mutant = operator.apply(s.evidence, createRng(7));
    if (!mutant) throw new Error("error-off-path found nothing to mutate in payments-errors");
    return { ...s, evidence: mutant.evidence as Evidence };
  });
}

/**
 * The fixture with payments' server counter labelling every failed Charge OK, as the status-label-200 defect does:
 * metrics.status-labels names the mislabelling; the hop and span/counter disagreements follow from it.
 */
function mislabelledCatalog(): SavedScenario[] {
  return catalogFixture().map((s) => {
    if (s.name !== "payments-errors") return s;
    const evidence = structuredClone(s.evidence);
    const payments = evidence.services.find((x) => x.name === "payments")!;
    const { labels, grpcServerHandled } = payments.contract;
    const mine = evidence.metrics.end.filter(
      (m) => m.name === grpcServerHandled?.name && m.labels[labels.instance] === payments.instance,
    );
    for (const failed of mine.filter((m) => m.labels[labels.grpcCode] === "UNAVAILABLE")) {
      const ok = mine.find(
        (m) => m.labels[labels.grpcCode] === "OK" && m.labels[labels.grpcMethod] === failed.labels[labels.grpcMethod],
      )!;
      ok.value += failed.value;
      failed.value = 0;
    }
    return { ...s, evidence };
  });
}

/** A config file as meshproof loads it (in a child: Jest's module system cannot load the TypeScript as written). */
function loadedConfig(file: string): MeshConfig {
  const loader = path.join(DIST, "harness/config/mesh-config.js");
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(loader)}).loadMeshConfig(${JSON.stringify(file)})))`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" })) as MeshConfig;
}

/** Text a hostile mesh could put in telemetry: each must show as text, never run or load anything. */
const HOSTILE = ["</script><script>alert(1)</script>", '"><img src=x onerror=alert(1)>'];

/** The fixture with hostile text in a request's route, a span's name and attributes, and a log line. */
function hostileCatalog(): SavedScenario[] {
  return mislabelledCatalog().map((s) => {
    if (s.name !== "payments-errors") return s;
    const evidence = structuredClone(s.evidence);
    const [first, second] = HOSTILE as [string, string];
    evidence.requests[0]!.route = `POST /api/${first}`;
    evidence.requests[0]!.error = second;
    const trace = Object.values(evidence.traces).find((t) => t && t.spans.length > 0)!;
    trace.spans[0]!.name = `${first}${second}`;
    trace.spans[0]!.attributes["http.route"] = second;
    const logs = Object.values(evidence.logs)[0]!;
    logs[0] = { ...logs[0]!, msg: first, path: second };
    return { ...s, evidence };
  });
}

/** The little of the DOM the page checks read (the test compiles without the DOM library). */
interface DomNode {
  id: string;
  textContent: string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): DomNode[] & { length: number };
  compareDocumentPosition(other: DomNode): number;
}
interface Canvas2d {
  canvas: { width: number; height: number };
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
}
/** Node.DOCUMENT_POSITION_FOLLOWING */
const FOLLOWING = 4;

interface PageProblems {
  console: string[];
  failedRequests: string[];
  foreignRequests: string[];
  /** alert/confirm/prompt dialogs, listened for before the page loads (Playwright dismisses unheard ones silently). */
  dialogs: string[];
}

async function open(context: BrowserContext, file: string): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  const problems: PageProblems = { console: [], failedRequests: [], foreignRequests: [], dialogs: [] };
  page.on("dialog", (d) => {
    problems.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.console.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on("request", (r) => {
    if (r.url() !== `file://${file}`) problems.foreignRequests.push(r.url());
  });
  await page.goto(`file://${file}`);
  await page.waitForFunction(
    () => (globalThis as unknown as { meshproofReport?: { ready: boolean } }).meshproofReport?.ready,
    undefined,
    {
      timeout: 10_000,
    },
  );
  return { page, problems };
}

/** What was drawn: every uPlot chart's data and painted pixels, the probe SVG's runs, the waterfalls' bars. */
async function drawn(page: Page) {
  return page.evaluate(() => {
    const document = (globalThis as unknown as { document: DomNode }).document;
    const report = (
      globalThis as unknown as {
        meshproofReport: {
          charts: { id: string; points: number; plot: { data: (number | null)[][]; ctx: Canvas2d } }[];
          waterfalls: number;
          errors: string[];
        };
      }
    ).meshproofReport;
    const charts = report.charts.map((c) => {
      const canvas = c.plot.ctx.canvas;
      const pixels = c.plot.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      const series = c.plot.data
        .slice(1)
        .map((values) => values.filter((v) => v !== null && Number.isFinite(v)).length);
      return { id: c.id, points: c.points, series, painted, x: c.plot.data[0]!.length };
    });
    return {
      chartBoxes: document.querySelectorAll(".chart").length,
      charts,
      errors: report.errors,
      probeRuns: Array.from(document.querySelectorAll("svg.probes")).map(
        (svg) => svg.querySelectorAll("rect.run").length,
      ),
      waterfalls: Array.from(document.querySelectorAll(".waterfall")).map((w) => w.querySelectorAll(".wf-bar").length),
    };
  });
}

function expectEverythingDrawn(d: Awaited<ReturnType<typeof drawn>>, problems: PageProblems): void {
  expect(problems).toEqual({ console: [], failedRequests: [], foreignRequests: [], dialogs: [] });
  expect(d.errors).toEqual([]);
  expect(d.charts.length).toBe(d.chartBoxes);
  expect(d.charts.length).toBeGreaterThan(10);
  for (const c of d.charts) {
    // Every chart has data points in some series and painted its canvas (axes alone paint far fewer pixels).
    expect({ id: c.id, hasPoints: c.points > 0 && c.x > 1 && c.series.some((n) => n > 1) }).toEqual({
      id: c.id,
      hasPoints: true,
    });
    expect(c.painted).toBeGreaterThan(2_000);
  }
  expect(d.probeRuns.length).toBeGreaterThan(0);
  for (const runs of d.probeRuns) expect(runs).toBeGreaterThanOrEqual(8);
  // A waterfall draws a bar per span: at least the edge's server span and the call it made.
  for (const bars of d.waterfalls) expect(bars).toBeGreaterThanOrEqual(2);
}

describe("report.html in a real browser (Debian's chromium, headless)", () => {
  let context: BrowserContext;
  let userDataDir: string;

  beforeAll(async () => {
    // A missing chromium fails here with `... not installed (expected at /usr/bin/chromium); run "npm run setup"`.
    const browser = await resolveTool("chromium");
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.path,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
      viewport: { width: 1366, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  test("a passing run: every chart drawn with data, no console error, no request leaves the file", async () => {
    const dir = path.join(OUT, "passing");
    fs.mkdirSync(dir, { recursive: true });
    const saved = catalogFixture();
    const verdict = judge(saved);
    expect(verdict.scenarios.map((s) => s.status)).toEqual(saved.map(() => "passed"));
    const report = writeHtmlReport(dir, verdict, saved);
    expect(report.bytes).toBeLessThan(2 * 2 ** 20);

    const { page, problems } = await open(context, report.file);
    const d = await drawn(page);
    expectEverythingDrawn(d, problems);
    // The RCA windows' exemplars are drawn, their first suspect's span highlighted.
    expect(await page.locator(".rca-window .wf-row.hl").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator(".failed-assertion").count()).toBe(0);
    // Every legend box is filled with its line's colour (uPlot leaves them empty without an area fill).
    const markers = await page.evaluate(() => {
      const g = globalThis as unknown as {
        document: DomNode;
        getComputedStyle(el: DomNode): { backgroundColor: string };
      };
      return Array.from(g.document.querySelectorAll(".u-legend .u-series:not(:first-child) .u-marker")).map(
        (m) => g.getComputedStyle(m).backgroundColor,
      );
    });
    expect(markers.length).toBeGreaterThan(50);
    expect(markers.filter((c) => c === "rgba(0, 0, 0, 0)" || c === "transparent")).toEqual([]);
    await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
    await page.close();
  });

  test("a failing run: the failed assertion comes first, with its requests and trace waterfall", async () => {
    const dir = path.join(OUT, "failing");
    fs.mkdirSync(dir, { recursive: true });
    const saved = failingCatalog();
    const verdict = judge(saved);
    expect(verdict.scenarios.filter((s) => s.status !== "passed").map((s) => [s.name, s.status])).toEqual([
      ["payments-errors", "failed"],
    ]);
    const failed = verdict.scenarios
      .find((s) => s.name === "payments-errors")!
      .assertions.filter((a) => a.status === "failed")
      .map((a) => a.id);
    expect(failed).toContain("traces.error-path");
    const report = writeHtmlReport(dir, verdict, saved);

    const { page, problems } = await open(context, report.file);
    const d = await drawn(page);
    expectEverythingDrawn(d, problems);

    const order = await page.evaluate((following) => {
      const document = (globalThis as unknown as { document: DomNode }).document;
      const first = document.querySelector(".failed-assertion")!;
      const firstChart = document.querySelector(".chart")!;
      const firstScenario = document.querySelector("details.scenario")!;
      return {
        scenario: firstScenario.id,
        assertion: first.querySelector("h4")!.textContent,
        beforeAnyChart: Boolean(first.compareDocumentPosition(firstChart) & following),
        requests: first.querySelectorAll("table.requests tbody tr").length,
        bars: first.querySelectorAll(".waterfall .wf-bar").length,
        errorBars: first.querySelectorAll(".waterfall .wf-bar.error").length,
      };
    }, FOLLOWING);
    expect(order.scenario).toBe("payments-errors");
    // Failures first, grouped: the failure that explains the others leads.
    const judged = verdict.scenarios.find((s) => s.name === "payments-errors")!.assertions;
    expect(order.assertion).toContain(groupFailures(judged)[0]!.cause.id);
    expect(order.beforeAnyChart).toBe(true);
    expect(order.requests).toBeGreaterThan(0);
    expect(order.bars).toBeGreaterThan(3);
    expect(order.errorBars).toBeGreaterThan(0);
    expect(await page.locator("header .badge").textContent()).toBe("FAILED");
    await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
    await page.close();
  });

  test("failure first: the targeted assertion's headline and hint lead, its consequences nested; filters, one x range per scenario, 1440 and 390 px", async () => {
    const dir = path.join(OUT, "failure-first");
    fs.mkdirSync(dir, { recursive: true });
    const saved = mislabelledCatalog();
    const verdict = judge(saved);
    const report = writeHtmlReport(dir, verdict, saved);
    const { page, problems } = await open(context, report.file);
    expectEverythingDrawn(await drawn(page), problems);

    const first = await page.evaluate(() => {
      const document = (globalThis as unknown as { document: DomNode }).document;
      const article = document.querySelector(".failed-assertion")!;
      return {
        id: article.querySelector("h4")!.textContent,
        headline: article.querySelector(".headline")?.textContent,
        hint: article.querySelector(".hint")?.textContent,
        nested: Array.from(document.querySelectorAll(".consequence .failed-assertion h4")).map((h) => h.textContent),
      };
    });
    expect(first.id).toContain("metrics.status-labels");
    expect(first.headline).toMatch(/^expected \d+ on UNAVAILABLE .*, observed 0 \(by code: OK \d+\), on payments /);
    expect(first.hint).toContain("reads the status before the error handler sets it");
    expect(first.nested.join(" ")).toMatch(/metrics\.(hop-agreement|span-counter-agreement)/);

    // The filter leaves the failed scenarios; the search finds a scenario by an id it names.
    await page.click('[data-status-filter="failed"]');
    const visible = () =>
      page.evaluate(() =>
        Array.from((globalThis as unknown as { document: DomNode }).document.querySelectorAll("details.scenario"))
          .filter((d) => !(d as unknown as { hidden: boolean }).hidden)
          .map((d) => d.id),
      );
    expect(await visible()).toEqual(["payments-errors"]);
    await page.click('[data-status-filter="all"]');
    // A request id a failed assertion names (an assertion id would find every scenario judging it).
    const named = verdict.scenarios
      .find((s) => s.name === "payments-errors")!
      .assertions.find((a) => a.status === "failed" && a.evidence?.requestIds?.length)!.evidence!.requestIds![0]!;
    await page.fill("#search", named);
    expect(await visible()).toEqual(["payments-errors"]);
    await page.fill("#search", "");

    // Every chart of a scenario on one x range.
    const ranges = await page.evaluate(() => {
      const report = globalThis as unknown as {
        meshproofReport: { charts: { id: string; plot: { scales: { x: { min: number; max: number } } } }[] };
        document: { getElementById(id: string): { closest(s: string): { id: string } | null } | null };
      };
      const byScenario: Record<string, string[]> = {};
      for (const c of report.meshproofReport.charts) {
        const scenario = report.document.getElementById(c.id)!.closest("details.scenario")!.id;
        (byScenario[scenario] ??= []).push(`${c.plot.scales.x.min}..${c.plot.scales.x.max}`);
      }
      return byScenario;
    });
    for (const [scenario, xs] of Object.entries(ranges)) expect([scenario, new Set(xs).size]).toEqual([scenario, 1]);

    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: path.join(dir, "report-1440x900.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    // The charts redraw at the new width after a debounce: wait until every drawn canvas fits, at most 5 s.
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { meshproofReport: { charts: { plot: { ctx: { canvas: { width: number } } } }[] } }
        ).meshproofReport.charts.every((c) => c.plot.ctx.canvas.width <= 390 * 2),
      undefined,
      { timeout: 5_000 },
    );
    const scroll = await page.evaluate(() => {
      const root = (
        globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
      ).document.documentElement;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });
    expect(scroll.scrollWidth).toBeLessThanOrEqual(scroll.clientWidth);
    await page.screenshot({ path: path.join(dir, "report-390x844.png"), fullPage: true });
    await page.close();
  });

  test("a real request with hostile text in its path, a header and its log line: the report shows it as text", async () => {
    // The sample mesh launched from its example config, with one route whose request carries the texts: the path's
    // query in the edge's log line (the kit logs the URL as received), the User-Agent header in the edge span's
    // user_agent.original. inventory-errors fails some of them, so RCA draws an exemplar trace with its log lines.
    const dir = path.join(OUT, "hostile-request");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const [inPath, inHeader] = HOSTILE as [string, string];
    const example = path.resolve(DIST, "../examples/sample-mesh/meshproof.config.ts");
    const config = loadedConfig(example);
    for (const service of Object.values(config.services))
      if (service.launch) service.launch.cwd = path.resolve(path.dirname(example), service.launch.cwd ?? ".");
    const route = "GET /api/products/:sku";
    config.routes = {
      [route]: {
        request: { method: "GET", path: `/api/products/sku-2?note=${inPath}`, headers: { "user-agent": inHeader } },
        hops: config.routes[route]!.hops,
      },
    };
    const configFile = path.join(dir, "meshproof.config.json");
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    const reportDir = path.join(dir, "report");
    const run = await runCli("harness/cli/scenario.js", [
      "--config",
      configFile,
      "inventory-errors",
      "--report-dir",
      reportDir,
    ]);
    expect({ code: run.code, stderr: run.code === 0 ? "" : whyFailed(run) }).toEqual({ code: 0, stderr: "" });

    // The telemetry really carried the texts, byte for byte.
    const [saved] = readEvidenceFile(evidenceFileIn(reportDir)).scenarios;
    const lines = Object.values(saved!.evidence.logs).flat();
    expect(lines.some((l) => String(l.url).includes(inPath))).toBe(true);
    const spans = Object.values(saved!.evidence.traces).flatMap((t) => t?.spans ?? []);
    expect(spans.some((sp) => sp.attributes["user_agent.original"] === inHeader)).toBe(true);

    const { page, problems } = await open(context, path.join(reportDir, "report.html"));
    // The scenario passed, so it is collapsed: open it, every waterfall row's attributes and every trace's log lines,
    // as a reader would.
    await page.locator("details.scenario > summary").first().click();
    for (const row of await page.locator(".rca-window .wf-row").all()) await row.click();
    for (const logs of await page.locator("details.wf-logs").all()) await logs.locator("summary").click();
    const found = await page.evaluate((hostile) => {
      const document = (globalThis as unknown as { document: DomNode & { body: { innerText: string } } }).document;
      return {
        images: document.querySelectorAll("img").length,
        scripts: document.querySelectorAll("script").length,
        attributes: document.querySelectorAll(".wf-attrs:not([hidden])").length,
        shown: hostile.map((h) => document.body.innerText.includes(h)),
      };
    }, HOSTILE);
    expect(problems).toEqual({ console: [], failedRequests: [], foreignRequests: [], dialogs: [] });
    expect(found.images).toBe(0);
    expect(found.scripts).toBe(3);
    expect(found.attributes).toBeGreaterThanOrEqual(2);
    // Both texts are on screen as text: the path in the log line, the header in the edge span's attributes.
    expect(found.shown).toEqual([true, true]);
    await page.screenshot({ path: path.join(dir, "report.png"), fullPage: true });
    await page.close();
  }, 120_000);

  test("text from telemetry is inert: hostile routes, span names, attributes and log lines show as text", async () => {
    const dir = path.join(OUT, "hostile");
    fs.mkdirSync(dir, { recursive: true });
    const saved = hostileCatalog();
    const verdict = judge(saved);
    const report = writeHtmlReport(dir, verdict, saved);
    // open() listens for dialogs before the page loads and waits until the page's script has run.
    const { page: opened, problems } = await open(context, report.file);
    const found = await opened.evaluate((hostile) => {
      const document = (globalThis as unknown as { document: DomNode & { body: { textContent: string } } }).document;
      return {
        images: document.querySelectorAll("img").length,
        scripts: document.querySelectorAll("script").length,
        shown: hostile.map((h) => document.body.textContent.includes(h)),
      };
    }, HOSTILE);
    expect(problems.dialogs).toEqual([]);
    expect(problems.console.filter((m) => /alert|onerror|img/i.test(m))).toEqual([]);
    // No element came from the text: no image, no script beyond the page's own three.
    expect(found.images).toBe(0);
    expect(found.scripts).toBe(3);
    expect(found.shown).toContain(true);
    await opened.close();
  });
});
