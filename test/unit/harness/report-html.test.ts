import { evaluate } from "../../../assertions/evaluate";
import { select } from "../../../assertions/metric-query";
import type { SavedScenario } from "../../../harness/report/evidence-file";
import { reportHtml } from "../../../harness/report/html-report";
import { localize } from "../../../assertions/rca";
import { counterIncrease } from "../../../assertions/rca/runtime";
import { scoreRun } from "../../../harness/run/score-run";
import { buildReportModel } from "../../../harness/report/report-model";
import { NO_RESPONSE_COLOR, SERVICE_PALETTE, STATUS_COLORS } from "../../../harness/report/report-charts";
import { reproduceCommand } from "../../../harness/report/report-html";
import { scenarioStatus, type Verdict } from "../../../harness/report/verdict";
import { catalogFixture } from "../../support/evidence-fixture";

/** The verdict with its run's RCA score, as `npm run scenario` writes it. */
function withScore(verdict: Verdict, saved: readonly SavedScenario[]): Verdict {
  return { ...verdict, rca: scoreRun(verdict.scenarios, saved) };
}

function verdictOf(saved: readonly SavedScenario[], run: Partial<Verdict["run"]> = {}): Verdict {
  return withScore(
    {
      version: 2,
      run: {
        id: "unit",
        startedAt: "2026-11-21T00:00:00.000Z",
        durationMs: 1,
        backend: "native",
        tools: {},
        seed: 3,
        mesh: { description: "sample mesh (native processes)", impl: {} },
        ...run,
      },
      scenarios: saved.map((s) => {
        const assertions = evaluate(s.evidence, s.expectations);
        return {
          name: s.name,
          status: scenarioStatus(assertions),
          durationMs: 1,
          groundTruth: { requests: s.evidence.requests.length, byStatus: {}, faults: s.evidence.faults },
          phases: {},
          measurements: {},
          assertions,
          rca: localize(s.evidence, { topology: s.expectations.topology }),
        };
      }),
    },
    saved,
  );
}

describe("report.html generation (pure: verdict and evidence in, HTML out)", () => {
  const saved = catalogFixture();
  const verdict = verdictOf(saved);

  test("the catalog's page is small, quick, and asks for nothing outside itself", () => {
    reportHtml(verdict, saved); // warm: the assets are read once per process
    const started = performance.now();
    const html = reportHtml(verdict, saved);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 2 ** 20);
    // No element loads anything: no src/href to another origin, no link or import; a CSP forbids the rest.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|@import/i);
    expect(html).toContain(`content="default-src 'none';`);
    // The data block cannot end its script element early.
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(data).not.toContain("<");
    expect(JSON.parse(data)).toHaveProperty("charts");
  });

  test("the page's data is only what it draws: binned series, no raw evidence", () => {
    const model = buildReportModel(verdict, saved);
    const data = JSON.stringify(model.client);
    expect(data.length).toBeLessThan(200_000);
    // One outcome chart, a latency chart per route, runtime gauges per scenario; every series has points.
    const outcome = model.client.charts.filter((c) => c.title.startsWith("Outcomes"));
    expect(outcome).toHaveLength(verdict.scenarios.length);
    for (const c of model.client.charts) expect(c.series.some((s) => s.values.some((v) => v !== null))).toBe(true);
    // Passing catalog: the only traces are the RCA windows' exemplars, one per window.
    const exemplars = model.scenarios.flatMap((s) => s.rca?.windows.flatMap((w) => w.exemplar?.traceId ?? []) ?? []);
    expect(exemplars.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(model.client.traces).sort()).toEqual([...new Set(exemplars)].sort());
    const outage = model.scenarios.find((s) => s.verdict.name === "redis-outage")!;
    const orders = outage.probes.lanes.find((l) => l.service === "orders" && l.probe === "readyz")!;
    expect(orders.flips.filter((f) => f.detail).map((f) => f.label)).toEqual([
      expect.stringMatching(/^redis \+\d+ ms$/),
      expect.stringMatching(/^ok \+\d+ ms$/),
    ]);
    expect(outage.recon.map((t) => t.assertion)).toEqual(
      expect.arrayContaining(["metrics.edge-status-counts", "metrics.hop-agreement", "metrics.span-counter-agreement"]),
    );
    expect(outage.recon.flatMap((t) => t.rows).filter((r) => r.mismatch)).toEqual([]);
  });

  test("a restart's counter reset yields no negative rate anywhere: charts break the line, RCA counts from zero", () => {
    // 5 -> 10, then a restarted process counting again from 0: 2, 6.
    expect(counterIncrease([{ v: 5 }, { v: 10 }, { v: 2 }, { v: 6 }])).toBe(11);
    const model = buildReportModel(verdict, saved);
    const values = model.client.charts.flatMap((c) => c.series.flatMap((s) => s.values));
    expect(values.filter((v) => v !== null && v < 0)).toEqual([]);
    const kill = model.scenarios.find((s) => s.verdict.name === "process-kill")!;
    const runtimes = (kill.rca?.windows ?? []).flatMap((w) => w.window.suspects.map((x) => x.runtime));
    expect(runtimes.length).toBeGreaterThan(0);
    for (const r of runtimes)
      for (const key of ["cpuCores", "gcPerSec"] as const)
        if (r[key]) expect([key, r[key]!.window >= 0, r[key]!.steady >= 0]).toEqual([key, true, true]);
  });

  test("a colour means one thing: status classes their own, services and percentiles none of theirs", () => {
    const model = buildReportModel(verdict, saved);
    const statusColors = new Set([...Object.values(STATUS_COLORS).flat(), NO_RESPONSE_COLOR]);
    let checked = 0;
    for (const chart of model.client.charts)
      for (const series of chart.series) {
        checked++;
        if (chart.title.startsWith("Outcomes")) {
          const family = series.label === "no response" ? [NO_RESPONSE_COLOR] : STATUS_COLORS[series.label[0]!];
          expect([chart.id, series.label, family]).toEqual([
            chart.id,
            series.label,
            expect.arrayContaining([series.color]),
          ]);
        } else
          expect([chart.id, series.label, statusColors.has(series.color)]).toEqual([chart.id, series.label, false]);
      }
    expect(checked).toBeGreaterThan(50);
    expect(new Set(SERVICE_PALETTE).size).toBe(SERVICE_PALETTE.length);
  });

  test("every chart of a scenario shares its load window as x range, with no point outside it", () => {
    const model = buildReportModel(verdict, saved);
    for (const view of model.scenarios) {
      const charts = [view.outcome, ...view.latency, ...view.runtime].filter((c) => c !== undefined);
      const ranges = new Set(charts.map((c) => JSON.stringify(c.xRange)));
      expect([view.verdict.name, ranges.size]).toEqual([view.verdict.name, 1]);
      const [from, to] = charts[0]!.xRange!;
      for (const c of view.runtime) expect(c.x.filter((x) => x < from || x > to)).toEqual([]);
    }
  });

  test("a disagreeing reconciliation row is marked and the failed assertion's evidence is laid out", () => {
    const broken = structuredClone(saved.find((s) => s.name === "payments-errors")!);
    // One more 502 on the gateway's counter than the driver saw.
    const gateway = broken.evidence.services.find((s) => s.role === "edge")!;
    const sample = select(broken.evidence.metrics.end, {
      name: "http_server_requests_total",
      where: { instance: gateway.instance, status_code: "502", route: "/api/checkout" },
    })[0]!;
    const driverSaw = broken.evidence.requests.filter(
      (r) => r.route === "POST /api/checkout" && r.status === 502,
    ).length;
    sample.value += 1;
    const model = buildReportModel(verdictOf([broken]), [broken]);
    const [view] = model.scenarios;
    expect(view!.failed.map((f) => f.result.id)).toContain("metrics.edge-status-counts");
    const edge = view!.recon.find((t) => t.assertion === "metrics.edge-status-counts")!;
    expect(edge.rows.filter((r) => r.mismatch).map((r) => [r.key, ...r.values])).toEqual([
      ["POST /api/checkout|502", driverSaw, driverSaw + 1, driverSaw],
    ]);
  });

  test("the command to reproduce: recorded, or rebuilt from what an older verdict has", () => {
    expect(reproduceCommand({ ...verdict, run: { ...verdict.run, command: "npm run scenario -- x" } })).toBe(
      "npm run scenario -- x",
    );
    expect(reproduceCommand({ ...verdict, run: { ...verdict.run, defects: ["drop-context"] } })).toBe(
      `npm run scenario -- ${verdict.scenarios.map((s) => s.name).join(" ")} --seed 3 --backend native --defects drop-context`,
    );
  });
});
