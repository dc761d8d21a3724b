import fs from "node:fs";
import path from "node:path";
import { BUILTIN_CONTRACTS } from "../../assertions/contract";
import { NativeBackend } from "../../harness/backends";
import { awaitScrapesAfter } from "../../harness/evidence/collect-metrics";
import { runInlineLoad } from "../../harness/load/inline-driver";
import { MESH_ROUTES } from "../../harness/load/routes";
import { startMesh } from "../../harness/mesh";
import { sampleTopology } from "../../scenarios/lib/sample-topology";
import { loadRoutes } from "../../scenarios/lib/template";

const DASHBOARD = path.resolve(__dirname, "../../../compose/grafana-dashboard.json");

interface Target {
  refId: string;
  expr: string;
  datasource: { uid: string };
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  datasource?: { type: string; uid: string };
}

/**
 * Grafana's variables as the dashboard's "All" selection expands them: every job and service (allValue ".+"), and a
 * rate window that covers the few seconds of traffic at a 1 s scrape interval.
 */
function expand(expr: string): string {
  return expr
    .replace(/\$__rate_interval/g, "15s")
    .replace(/\$job/g, ".+")
    .replace(/\$service/g, ".+");
}

/** Every metric name the node contract declares, with the histogram series suffixes, and `up`. */
function contractNames(): Set<string> {
  const c = BUILTIN_CONTRACTS.node;
  const names = new Set<string>([c.up]);
  for (const metric of [
    c.httpServerRequests,
    c.httpServerDuration,
    c.httpClientRequests,
    c.httpClientDuration,
    c.grpcServerHandled,
    c.grpcServerHandling,
    c.grpcClientHandled,
    c.grpcClientHandling,
    c.faultsInjected,
  ]) {
    if (!metric) continue;
    names.add(metric.name);
    if (metric.type === "histogram") for (const s of ["_bucket", "_count", "_sum"]) names.add(`${metric.name}${s}`);
  }
  const r = c.runtimeMetrics;
  for (const name of [
    r.heapUsedBytes,
    r.heapTotalBytes,
    r.eventLoopLagSeconds,
    r.eventLoopUtilization,
    r.residentMemoryBytes,
    r.cpuSecondsTotal,
    r.startTimeSeconds,
  ])
    if (name) names.add(name);
  for (const s of ["_bucket", "_count", "_sum"]) names.add(`${r.gcDuration.name}${s}`);
  return names;
}

const panels = (JSON.parse(fs.readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] }).panels.filter(
  (p) => p.type !== "row",
);
const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

describe("compose/grafana-dashboard.json", () => {
  test("every panel queries Prometheus by the node contract's metric names", () => {
    expect(targets.length).toBeGreaterThan(20);
    const known = contractNames();
    for (const t of targets) {
      expect({ panel: t.panel, datasource: t.datasource.uid }).toEqual({ panel: t.panel, datasource: "${datasource}" });
      const used = [...t.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!);
      expect(used.length).toBeGreaterThan(0);
      expect({ panel: t.panel, unknown: used.filter((n) => !known.has(n)) }).toEqual({ panel: t.panel, unknown: [] });
    }
  });

  test("every expression returns data from a real mesh's Prometheus after traffic with injected errors", async () => {
    await using stack = await new NativeBackend().start();
    await using mesh = await startMesh(stack);
    // A rate needs a sample from before the errors: every target scraped once (file_sd finds new targets only every
    // 5 s), or a target first scraped after the errors shows them in its first sample and a rate of 0.
    await awaitScrapesAfter(stack.prometheus, "mesh", Object.keys(mesh.services).length, Date.now());
    // Some errors through the admin API: half of payments.Charge calls fail UNAVAILABLE (503 at orders, 502 at the edge).
    const fault = await mesh.services.payments.admin.addFault({
      kind: "error",
      target: "Charge",
      rate: 0.5,
      code: "UNAVAILABLE",
    });
    const load = await runInlineLoad(
      {
        ratePerSec: 20,
        durationMs: 4_000,
        seed: 1,
        routes: loadRoutes(sampleTopology()),
      },
      { baseUrl: mesh.gatewayUrl, routes: MESH_ROUTES },
    );
    await mesh.services.payments.admin.removeFault(fault.id);
    expect(load.requests.filter((r) => r.status === 502).length).toBeGreaterThan(0);
    const lastEndMs = Math.max(...load.requests.map((r) => r.endMs));
    await awaitScrapesAfter(stack.prometheus, "mesh", Object.keys(mesh.services).length, lastEndMs);

    const atSec = Date.now() / 1000;
    const results = await Promise.all(
      targets.map(async (t) => {
        const samples = await stack.prometheus.query(expand(t.expr), atSec);
        const finite = samples.filter((s) => Number.isFinite(s.value));
        return {
          panel: t.panel,
          refId: t.refId,
          series: samples.length,
          finite: finite.length,
          positive: finite.filter((s) => s.value > 0).length,
        };
      }),
    );
    // Data: at least one series with a number in it (histogram_quantile over a quiet series gives NaN).
    for (const r of results)
      expect({ panel: r.panel, refId: r.refId, hasData: r.series > 0 && r.finite > 0 }).toEqual({
        panel: r.panel,
        refId: r.refId,
        hasData: true,
      });
    // The error panels see the injected errors, not only the pre-initialised zeros.
    for (const r of results.filter((x) => /error|fault/i.test(x.panel)))
      expect({ panel: r.panel, refId: r.refId, positive: r.positive > 0 }).toEqual({
        panel: r.panel,
        refId: r.refId,
        positive: true,
      });
  }, 120_000);
});
