import type { Evidence } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import { arrivalOffsetsMs } from "../load/load-plan";
import { buildEvidence, rangeSeriesNames } from "../evidence/build-evidence";
import { collectExemplars, expectedTraces, fetchExpositions, readJsonLogs } from "../evidence/collect-evidence";
import { awaitScrapesAfter, rangeSeries, scrapeTargetCount, snapshot } from "../evidence/collect-metrics";
import { collectTraces } from "../evidence/collect-traces";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import type { MeshSession } from "./acquire-mesh";
import type { RunContext } from "./scenario-run";
import type { Baseline } from "./steady-state";
import { spanCounts } from "./steady-state";
import type { Timeline } from "./timeline";

/** The scenario's evidence and what collecting it measured (trace query passes and waits). */
export interface Collected {
  evidence: Evidence;
  measurements: Record<string, number>;
}

/**
 * Quiesce, then collect: the services flush, every trace is read until it holds what its request implies and stops
 * changing, Prometheus has scraped twice after the last request, the probe poller and sampler stop; then every
 * record and telemetry source is read once into one Evidence.
 */
export async function quiesceAndCollect(
  scenario: Scenario,
  expectations: Expectations,
  session: MeshSession,
  baseline: Baseline,
  timeline: Timeline,
  context: RunContext,
): Promise<Collected> {
  const { mesh, journal } = session;
  const { prometheus, traces: traceStore } = context.target;
  const services = mesh.serviceInfos();
  const { window, load, plan } = timeline;
  await mesh.flush();
  const spansAfter = await spanCounts(mesh);
  const edge = services.find((s) => s.role === "edge")?.name ?? "";
  const expected = expectedTraces(load.requests, expectations.topology, journal.records, window.endMs, edge);
  const [traces] = await Promise.all([
    collectTraces(traceStore, expected, { exportIntervalMs: Math.max(1_000, mesh.exportIntervalMs) }),
    awaitScrapesAfter(prometheus, mesh.scrapeJob, scrapeTargetCount(Object.values(mesh.services)), window.endMs),
  ]);
  const probes = await session.poller.stop();
  const processes = session.sampler?.stop();
  const [end, range, metadata, exposition, exemplars] = await Promise.all([
    snapshot(prometheus, mesh.scrapeJob),
    rangeSeries(prometheus, mesh.scrapeJob, rangeSeriesNames(services), window.startMs / 1000 - 5, Date.now() / 1000),
    prometheus.metadata(),
    fetchExpositions(
      Object.fromEntries(Object.values(mesh.services).flatMap((s) => (s.metricsUrl ? [[s.name, s.metricsUrl]] : []))),
    ),
    collectExemplars(prometheus, mesh.scrapeJob, window.startMs, Date.now()),
  ]);
  const evidence = buildEvidence({
    scenario: scenario.name,
    window,
    plan: {
      // What the driver was to send, less what it reported it did not start: k6's dropped iterations, and the
      // iterations its executor never began (the last one of a ramp may fall past its end).
      requests: Math.min(
        arrivalOffsetsMs(plan).length - (load.k6?.droppedIterations ?? 0),
        load.k6 ? load.k6.iterations : Infinity,
      ),
      routes: Object.fromEntries(scenario.load.routes.map((r) => [r.route, r.weight])),
      samplingRatio: scenario.mesh?.samplingRatio ?? context.target.samplingRatio,
    },
    requests: load.requests,
    faults: journal.records,
    probes,
    metrics: { start: baseline.start, end, at: {}, range, metadata, exposition, exemplars },
    traces: traces.traces,
    logs: readJsonLogs(baseline.logFiles, baseline.logOffsets),
    services,
    ...(processes ? { processes } : {}),
    spansBefore: baseline.spansBefore,
    spansAfter,
  });
  const measurements = {
    traceQueryPasses: traces.passes,
    tracesShort: traces.short.length,
    tracesArrivedMs: traces.arrivedMs,
    tracesSettledMs: traces.settledMs,
  };
  return { evidence, measurements };
}
