import type {
  Evidence,
  FaultRecord,
  LogLine,
  MetricSample,
  MetricsEvidence,
  ProbeRecord,
  ProcessSample,
  RequestRecord,
  ServiceInfo,
  SpanCounts,
} from "../../assertions/evidence";
import type { Trace } from "../../assertions/trace-model";

/** Everything one scenario's evidence is made of, as the run collected it. */
export interface EvidenceParts {
  scenario: string;
  window: Evidence["window"];
  plan: Evidence["plan"];
  requests: RequestRecord[];
  /** The fault journal's records, as the injectors wrote them. */
  faults: readonly FaultRecord[];
  probes: ProbeRecord[];
  metrics: MetricsEvidence;
  traces: Record<string, Trace | undefined>;
  logs: Record<string, LogLine[]>;
  services: ServiceInfo[];
  processes?: ProcessSample[];
  spansBefore: Record<string, SpanCounts>;
  spansAfter: Record<string, SpanCounts>;
}

/**
 * The one place a scenario's Evidence is assembled: the journal's last samples get the target labels Prometheus
 * gives the service's series, the SDK span counts are paired, and the result is frozen (judged, saved, never mutated).
 */
export function buildEvidence(parts: EvidenceParts): Evidence {
  const { spansBefore, spansAfter, processes, faults, ...rest } = parts;
  return Object.freeze({
    ...rest,
    faults: withTargetLabels(faults, parts.metrics.start, parts.services),
    ...(processes ? { processes } : {}),
    spanPipeline: Object.fromEntries(
      Object.keys(spansAfter).flatMap((name) =>
        spansBefore[name] ? [[name, { before: spansBefore[name], after: spansAfter[name]! }]] : [],
      ),
    ),
  });
}

/**
 * The journal's last samples of each process life, with the target labels Prometheus gives the service's series
 * (job, instance, and whatever the mesh registered: those of its `up` series in `scraped`), so they match them.
 */
export function withTargetLabels(
  records: readonly FaultRecord[],
  scraped: readonly MetricSample[],
  services: readonly ServiceInfo[],
): FaultRecord[] {
  return records.map((record) => {
    const service = services.find((s) => s.name === record.target);
    if (!record.lastSamples || !service) return record;
    const up = scraped.find(
      (s) => s.name === service.contract.up && s.labels[service.contract.labels.instance] === service.instance,
    );
    const { __name__: _, ...target } = up?.labels ?? { [service.contract.labels.instance]: service.instance };
    return { ...record, lastSamples: record.lastSamples.map((s) => ({ ...s, labels: { ...s.labels, ...target } })) };
  });
}

/**
 * The series kept over time (evidence.metrics.range), by each service's contract: the runtime gauges, the GC count,
 * and the RED histograms' `_count` and `_sum` by operation and code (what root-cause localisation reads).
 */
export function rangeSeriesNames(services: readonly ServiceInfo[]): string[] {
  const names = services.flatMap((s) => {
    const c = s.contract;
    const r = c.runtimeMetrics;
    const red = [c.httpServerDuration, c.httpClientDuration, c.grpcServerHandling, c.grpcClientHandling].flatMap((h) =>
      h ? [`${h.name}_count`, `${h.name}_sum`] : [],
    );
    return [
      ...(r
        ? [
            r.heapUsedBytes,
            r.heapTotalBytes,
            r.eventLoopLagSeconds,
            r.eventLoopLagMaxSeconds,
            r.eventLoopUtilization,
            r.goroutines,
            r.cpuSecondsTotal,
            `${r.gcDuration.name}_count`,
          ]
        : []),
      ...red,
    ];
  });
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}
