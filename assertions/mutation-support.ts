import type { Evidence, MetricSample, RequestRecord } from "./evidence";
import type { Rng } from "./mutation";
import type { Span } from "./trace-model";

// Helpers the operator families share. Each copies what it changes: an operator never changes the evidence it is
// given (the engine's TraceCache relies on that).

/** `digits` random lowercase hex digits: a span or trace id no recorded trace holds. */
export const hex = (rng: Rng, digits: number) =>
  Array.from({ length: digits }, () => "0123456789abcdef"[rng.int(16)]).join("");

/** The requests (passing `filter`) whose trace holds at least one span. */
export function tracedRequests(e: Evidence, filter: (r: RequestRecord) => boolean = () => true) {
  return e.requests.filter((r) => filter(r) && (e.traces[r.traceId]?.spans.length ?? 0) > 0);
}

/** The evidence with `fn` applied to a copy of one trace's spans (attributes copied too, so `fn` may edit them). */
export function withTrace(e: Evidence, traceId: string, fn: (spans: Span[]) => Span[]): Evidence {
  const trace = e.traces[traceId]!;
  return {
    ...e,
    traces: {
      ...e.traces,
      [traceId]: { ...trace, spans: fn(trace.spans.map((s) => ({ ...s, attributes: { ...s.attributes } }))) },
    },
  };
}

/**
 * The evidence with `fn` applied to the spans of every traced request's trace (one copy of the trace map), or
 * undefined when `fn` changed none (it returns undefined for a trace it leaves).
 */
export function mapTraces(e: Evidence, fn: (spans: Span[]) => Span[] | undefined): Evidence | undefined {
  let traces: Evidence["traces"] | undefined;
  for (const r of tracedRequests(e)) {
    const trace = e.traces[r.traceId]!;
    const spans = fn(trace.spans);
    if (!spans) continue;
    traces ??= { ...e.traces };
    traces[r.traceId] = { ...trace, spans };
  }
  return traces && { ...e, traces };
}

/** The evidence with `fn` applied to a copy of the start or end metric snapshot (labels copied too). */
export function withSamples(
  e: Evidence,
  part: "start" | "end",
  fn: (samples: MetricSample[]) => MetricSample[],
): Evidence {
  return {
    ...e,
    metrics: { ...e.metrics, [part]: fn(e.metrics[part].map((s) => ({ ...s, labels: { ...s.labels } }))) },
  };
}

/** RED counter samples of the end snapshot that rose during the run (value above the start's). */
export function risenSeries(e: Evidence, names: (s: Evidence["services"][number]) => string[]) {
  const start = new Map(e.metrics.start.map((s) => [`${s.name}${JSON.stringify(s.labels)}`, s.value]));
  return e.metrics.end.filter((s) => {
    const service = e.services.find((svc) => s.labels[svc.contract.labels.instance] === svc.instance);
    return (
      service !== undefined &&
      names(service).includes(s.name) &&
      s.value > (start.get(`${s.name}${JSON.stringify(s.labels)}`) ?? 0)
    );
  });
}

/** The names of a service's four RED counters (HTTP and gRPC, server and client). */
export const counters = (s: Evidence["services"][number]) => {
  const c = s.contract;
  return [c.httpServerRequests, c.httpClientRequests, c.grpcServerHandled, c.grpcClientHandled].flatMap((m) =>
    m ? [m.name] : [],
  );
};

/** The names of a service's four duration histograms (HTTP and gRPC, server and client). */
export const histograms = (s: Evidence["services"][number]) => {
  const c = s.contract;
  return [c.httpServerDuration, c.httpClientDuration, c.grpcServerHandling, c.grpcClientHandling].flatMap((m) =>
    m ? [m.name] : [],
  );
};

/** The span attribute keys of the service that emitted a span. */
export const spanKeys = (e: Evidence, span: Span) =>
  (e.services.find((s) => s.name === span.service) ?? e.services[0]!).contract.spans;

/** Whether two samples belong to one series (same name and labels). */
export const sameSeries = (a: MetricSample, b: MetricSample) =>
  a.name === b.name && JSON.stringify(a.labels) === JSON.stringify(b.labels);

/** The fewest observations a margin mutant moves one of: with fewer, one is more than a tenth. */
export const MARGIN_MIN_OBSERVATIONS = 10;

/**
 * How many of `n` observations a margin mutant moves: a share drawn within 1-10%, at least one; undefined when `n` is
 * below MARGIN_MIN_OBSERVATIONS (one would be more than a margin).
 */
export function marginCount(n: number, rng: Rng): number | undefined {
  if (n < MARGIN_MIN_OBSERVATIONS) return undefined;
  return Math.max(1, Math.floor(n * (0.01 + 0.09 * rng.next())));
}

/** `k` distinct items of `items` drawn at random, in their order in `items`. */
export function pickSome<T>(items: readonly T[], k: number, rng: Rng): T[] {
  const indices = items.map((_, i) => i);
  for (let i = 0; i < Math.min(k, indices.length); i++) {
    const j = i + rng.int(indices.length - i);
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** How much a series rose over the run (its end value less its start value, 0 when absent at the start). */
export function riseOf(e: Evidence, series: MetricSample): number {
  return series.value - (e.metrics.start.find((s) => sameSeries(s, series))?.value ?? 0);
}
