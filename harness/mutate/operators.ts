import type { Evidence, MetricSample, RequestRecord } from "../../assertions/evidence";
import { seriesKey } from "../../assertions/metric-query";
import type { Expectations } from "../../assertions/expectations";
import { FAULT_EFFECTS, heldUntil, isSuccess } from "../../assertions/trace-shape";
import type { Span, Trace } from "../../assertions/trace-model";
import type { MutationOperator, Rng } from "../../assertions/mutation";

const hex = (rng: Rng, digits: number) =>
  Array.from({ length: digits }, () => "0123456789abcdef"[rng.int(16)]).join("");

function tracedRequests(e: Evidence, filter: (r: RequestRecord) => boolean = () => true) {
  return e.requests.filter((r) => filter(r) && (e.traces[r.traceId]?.spans.length ?? 0) > 0);
}

function withTrace(e: Evidence, traceId: string, fn: (spans: Span[]) => Span[]): Evidence {
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
function mapTraces(e: Evidence, fn: (spans: Span[]) => Span[] | undefined): Evidence | undefined {
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

function withSamples(e: Evidence, part: "start" | "end", fn: (samples: MetricSample[]) => MetricSample[]): Evidence {
  return {
    ...e,
    metrics: { ...e.metrics, [part]: fn(e.metrics[part].map((s) => ({ ...s, labels: { ...s.labels } }))) },
  };
}

function edgeSpan(e: Evidence, trace: Trace, request: RequestRecord): Span | undefined {
  return trace.spans.find((s) => s.parentSpanId === request.parentSpanId || s.parentSpanId === undefined);
}

/**
 * A counter of one service that never rises, in every life of its process: the first life ends where it started,
 * a life after a kill or restart stays at 0.
 */
function frozenCounter(e: Evidence, service: Evidence["services"][number], name: string): Evidence {
  const mine = (s: MetricSample) => s.name === name && s.labels[service.contract.labels.instance] === service.instance;
  const start = new Map(e.metrics.start.filter(mine).map((s) => [seriesKey(s.labels), s.value]));
  const startOf = (s: MetricSample) => start.get(seriesKey(s.labels)) ?? 0;
  let restarted = false;
  const faults = e.faults.map((f) => {
    if (f.target !== service.name || !f.lastSamples) return f;
    const first = !restarted;
    restarted = true;
    return { ...f, lastSamples: f.lastSamples.map((s) => (mine(s) ? { ...s, value: first ? startOf(s) : 0 } : s)) };
  });
  return withSamples({ ...e, faults }, "end", (samples) =>
    samples.map((s) => (mine(s) ? { ...s, value: restarted ? 0 : startOf(s) } : s)),
  );
}

/**
 * Polls of the run's load window the judge holds to 200: not while a fault the scenario lets fail every probe holds
 * (probes.tolerate), nor while a flip declared for that service and probe may hold (the fault plus a flip bound).
 */
function judgedPolls(e: Evidence, expectations: Expectations | undefined) {
  const windowOf = (f: Evidence["faults"][number], afterMs: number) =>
    [f.appliedAtMs, heldUntil(f, e.window.endMs) + afterMs] as const;
  const tolerated = e.faults
    .filter((f) => expectations?.probes?.tolerate?.includes(f.target))
    .map((f) => windowOf(f, FAULT_EFFECTS[f.kind]?.graceMs ?? 0));
  const flips = (expectations?.probes?.readinessFlips ?? []).flatMap((flip) =>
    e.faults
      .filter((f) => f.target === flip.fault)
      .map((f) => ({ service: flip.service, probe: flip.probe ?? "readyz", window: windowOf(f, 2_000) })),
  );
  const inside = (p: Evidence["probes"][number], [from, to]: readonly [number, number]) =>
    p.atMs + p.latencyMs >= from && p.atMs <= to;
  return e.probes.filter(
    (p) =>
      p.atMs >= e.window.startMs &&
      !tolerated.some((w) => inside(p, w)) &&
      !flips.some((f) => f.service === p.service && f.probe === p.probe && inside(p, f.window)),
  );
}

/** Failed requests whose failure has a known place (not an overload's, which may fail a call anywhere). */
function placedFailure(e: Evidence, r: RequestRecord): boolean {
  return (
    !isSuccess(r.status) &&
    !e.faults.some(
      (f) =>
        FAULT_EFFECTS[f.kind]?.shapeUnknown &&
        r.startMs <= heldUntil(f, e.window.endMs) + FAULT_EFFECTS[f.kind]!.graceMs &&
        r.endMs >= f.appliedAtMs,
    )
  );
}

/** RED counter samples of the end snapshot that rose during the run (value above the start's). */
function risenSeries(e: Evidence, names: (s: Evidence["services"][number]) => string[]) {
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

const counters = (s: Evidence["services"][number]) => {
  const c = s.contract;
  return [c.httpServerRequests.name, c.httpClientRequests.name, c.grpcServerHandled.name, c.grpcClientHandled.name];
};
const histograms = (s: Evidence["services"][number]) => {
  const c = s.contract;
  return [c.httpServerDuration, c.httpClientDuration, c.grpcServerHandling, c.grpcClientHandling].map((m) => m.name);
};
/** The span attribute keys of the service that emitted a span. */
const spanKeys = (e: Evidence, span: Span) =>
  (e.services.find((s) => s.name === span.service) ?? e.services[0]!).contract.spans;

const sameSeries = (a: MetricSample, b: MetricSample) =>
  a.name === b.name && JSON.stringify(a.labels) === JSON.stringify(b.labels);

export const OPERATORS: MutationOperator[] = [
  {
    name: "drop-span",
    family: "traces",
    models: "an exporter or collector that loses one span",
    killedBy: "traces.complete",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e));
      if (!r) return undefined;
      const victim = rng.pick(
        e.traces[r.traceId]!.spans.filter(
          (s) => s.parentSpanId !== r.parentSpanId && (s.kind === "server" || s.kind === "client"),
        ),
      );
      if (!victim) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) => spans.filter((s) => s.spanId !== victim.spanId)),
        change: `dropped ${victim.service} ${victim.kind} span of trace ${r.traceId}`,
      };
    },
  },
  {
    name: "drop-service-spans",
    family: "traces",
    models: "a service whose spans never reach the trace store (no exporter, wrong endpoint)",
    killedBy: "traces.complete",
    apply(e, rng) {
      const edge = e.services.find((s) => s.role === "edge")?.name;
      const service = rng.pick(e.services.filter((s) => s.name !== edge)).name;
      const evidence = mapTraces(e, (spans) =>
        spans.some((s) => s.service === service) ? spans.filter((s) => s.service !== service) : undefined,
      );
      return evidence && { evidence, change: `dropped every span of ${service}` };
    },
  },
  {
    name: "spans-lost-before-kill",
    family: "traces",
    models:
      "a killed service's spans missing for a call that ended before the flush before the kill (lost, not killed)",
    killedBy: "traces.complete",
    apply(e, rng) {
      const kill = e.faults.find((f) => f.kind === "kill");
      if (!kill) return undefined;
      const flushedAt = kill.spansLostFromMs ?? kill.appliedAtMs;
      const r = rng.pick(
        tracedRequests(
          e,
          (r) =>
            isSuccess(r.status) &&
            r.endMs < flushedAt &&
            e.traces[r.traceId]!.spans.some((s) => s.service === kill.target),
        ),
      );
      if (!r) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) => spans.filter((s) => s.service !== kill.target)),
        change: `dropped the ${kill.target} spans of trace ${r.traceId}, which ended ${flushedAt - r.endMs} ms before the flush before the kill`,
      };
    },
  },
  {
    name: "reparent-to-missing",
    family: "traces",
    models: "context propagated with a wrong parent span id",
    killedBy: "traces.no-orphans",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e));
      const victim =
        r &&
        rng.pick(
          e.traces[r.traceId]!.spans.filter((s) => s.parentSpanId !== r.parentSpanId && s.parentSpanId !== undefined),
        );
      if (!r || !victim) return undefined;
      const missing = hex(rng, 16);
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => (s.spanId === victim.spanId ? { ...s, parentSpanId: missing } : s)),
        ),
        change: `${victim.service} ${victim.kind} span of trace ${r.traceId} re-parented to ${missing}`,
      };
    },
  },
  {
    name: "flip-span-status",
    family: "traces",
    models: "a span marked ERROR on a call that succeeded (or an error handler that marks the wrong span)",
    killedBy: "traces.no-error-on-success",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e, (r) => isSuccess(r.status)));
      const victim =
        r && rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" || s.kind === "client"));
      if (!r || !victim) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => (s.spanId === victim.spanId ? { ...s, status: "error" } : s)),
        ),
        change: `${victim.service} ${victim.kind} span of successful trace ${r.traceId} set to ERROR`,
      };
    },
  },
  {
    name: "rewrite-edge-status",
    family: "traces",
    models: "a server span that records the status before the error handler sets the real one",
    killedBy: "traces.edge-status",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e, (r) => r.status !== 0));
      const span = r && edgeSpan(e, e.traces[r.traceId]!, r);
      if (!r || !span) return undefined;
      const key = e.services.find((s) => s.role === "edge")!.contract.spans.httpStatusCode;
      const wrong = r.status === 200 ? 201 : 200;
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => (s.spanId === span.spanId ? { ...s, attributes: { ...s.attributes, [key]: wrong } } : s)),
        ),
        change: `edge span of trace ${r.traceId} says ${wrong}, the driver got ${r.status}`,
      };
    },
  },
  {
    name: "rewrite-grpc-code",
    family: "metrics",
    models: "a gRPC server span whose status-code attribute disagrees with what the call returned",
    killedBy: "metrics.span-counter-agreement",
    apply(e, rng) {
      const candidates = tracedRequests(e).flatMap((r) =>
        e.traces[r.traceId]!.spans.filter(
          (s) => s.kind === "server" && s.attributes[spanKeys(e, s).grpcStatusCode] !== undefined,
        ).map((s) => ({ r, s })),
      );
      const pick = rng.pick(candidates);
      if (!pick) return undefined;
      const key = spanKeys(e, pick.s).grpcStatusCode;
      const current = pick.s.attributes[key];
      const code = typeof current === "number" ? (current === 0 ? 14 : 0) : current === "OK" ? "UNAVAILABLE" : "OK";
      return {
        evidence: withTrace(e, pick.r.traceId, (spans) =>
          spans.map((s) => (s.spanId === pick.s.spanId ? { ...s, attributes: { ...s.attributes, [key]: code } } : s)),
        ),
        change: `${pick.s.service} server span of trace ${pick.r.traceId} says gRPC code ${code}`,
      };
    },
  },
  {
    name: "strip-semconv-attribute",
    family: "traces",
    models: "instrumentation that omits a required semantic-convention attribute",
    killedBy: "traces.semconv",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e));
      const span = r && rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server"));
      if (!r || !span) return undefined;
      const keys = spanKeys(e, span);
      const key = [keys.rpcMethod, keys.httpMethod].find((k) => span.attributes[k] !== undefined);
      if (!key) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => {
            if (s.spanId === span.spanId) delete s.attributes[key];
            return s;
          }),
        ),
        change: `removed ${key} from ${span.service} server span of trace ${r.traceId}`,
      };
    },
  },
  {
    name: "swap-request-ids",
    family: "traces",
    models: "a request id taken from the wrong request (a shared variable, a reused context)",
    killedBy: "traces.request-id",
    apply(e, rng) {
      const traced = tracedRequests(e);
      if (traced.length < 2) return undefined;
      const a = rng.pick(traced);
      const b = rng.pick(traced.filter((r) => r !== a));
      const relabel = (spans: Span[], id: string) =>
        spans.map((s) =>
          s.attributes[spanKeys(e, s).requestId] !== undefined
            ? { ...s, attributes: { ...s.attributes, [spanKeys(e, s).requestId]: id } }
            : s,
        );
      return {
        evidence: withTrace(
          withTrace(e, a.traceId, (s) => relabel(s, b.id)),
          b.traceId,
          (s) => relabel(s, a.id),
        ),
        change: `request ids of traces ${a.traceId} and ${b.traceId} swapped`,
      };
    },
  },
  {
    name: "double-counter-delta",
    family: "metrics",
    models: "a counter incremented twice per call (middleware registered twice)",
    killedBy: "metrics.span-counter-agreement",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, counters));
      if (!series) return undefined;
      const start = e.metrics.start.find((s) => sameSeries(s, series))?.value ?? 0;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (sameSeries(s, series) ? { ...s, value: s.value + (s.value - start) } : s)),
        ),
        change: `${series.name}${JSON.stringify(series.labels)} rose twice as much`,
      };
    },
  },
  {
    name: "move-counts-between-codes",
    family: "metrics",
    models: "a status label read at the wrong moment, so one call is counted under another code",
    killedBy: "metrics.span-counter-agreement",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, counters));
      if (!series) return undefined;
      const service = e.services.find((svc) => series.labels[svc.contract.labels.instance] === svc.instance)!;
      const l = service.contract.labels;
      const codeKey = series.labels[l.grpcCode] !== undefined ? l.grpcCode : l.httpStatusCode;
      const other =
        series.labels[codeKey] === "OK"
          ? "UNKNOWN"
          : series.labels[codeKey] === "500"
            ? "200"
            : codeKey === l.grpcCode
              ? "OK"
              : "500";
      const moved = { ...series, labels: { ...series.labels, [codeKey]: other } };
      return {
        evidence: withSamples(e, "end", (samples) => {
          const out = samples.map((s) =>
            sameSeries(s, series)
              ? { ...s, value: s.value - 1 }
              : sameSeries(s, moved)
                ? { ...s, value: s.value + 1 }
                : s,
          );
          return out.some((s) => sameSeries(s, moved)) ? out : [...out, { ...moved, value: 1 }];
        }),
        change: `one call of ${series.name}${JSON.stringify(series.labels)} counted as ${codeKey}="${other}"`,
      };
    },
  },
  {
    name: "drop-series",
    family: "metrics",
    models: "a series that is never exported (created lazily on a path that does not run, or on another registry)",
    killedBy: "metrics.span-counter-agreement",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, counters));
      if (!series) return undefined;
      const drop = (samples: MetricSample[]) => samples.filter((s) => !sameSeries(s, series));
      return {
        evidence: withSamples(withSamples(e, "start", drop), "end", drop),
        change: `removed ${series.name}${JSON.stringify(series.labels)}`,
      };
    },
  },
  {
    name: "histogram-count",
    family: "metrics",
    models: "a histogram observed on a different path than its counter is incremented",
    killedBy: "metrics.histogram-count",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)));
      if (!series) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (sameSeries(s, series) ? { ...s, value: s.value + 1 } : s)),
        ),
        change: `${series.name}${JSON.stringify(series.labels)} +1`,
      };
    },
  },
  {
    name: "histogram-sum-units",
    family: "hygiene",
    models: "durations observed in milliseconds into a _seconds histogram",
    killedBy: "hygiene.histograms",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)));
      if (!series) return undefined;
      const sum = { ...series, name: series.name.replace(/_count$/, "_sum") };
      const start = e.metrics.start.find((s) => sameSeries(s, sum))?.value ?? 0;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (sameSeries(s, sum) ? { ...s, value: start + (s.value - start) * 1000 } : s)),
        ),
        change: `${sum.name}${JSON.stringify(sum.labels)} rose 1000x`,
      };
    },
  },
  {
    name: "histogram-buckets-in-ms",
    family: "hygiene",
    models: "bucket bounds written in milliseconds for a histogram observed in seconds",
    killedBy: "hygiene.histograms",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)));
      if (!series) return undefined;
      const bucketName = series.name.replace(/_count$/, "_bucket");
      const { ...base } = series.labels;
      const ofSeries = (s: MetricSample) =>
        s.name === bucketName && Object.entries(base).every(([k, v]) => s.labels[k] === v);
      const relabel = (samples: MetricSample[]) =>
        samples.map((s) =>
          ofSeries(s) && s.labels.le !== "+Inf"
            ? { ...s, labels: { ...s.labels, le: String(Number(s.labels.le) * 1000) } }
            : s,
        );
      return {
        evidence: withSamples(withSamples(e, "start", relabel), "end", relabel),
        change: `bucket bounds of ${bucketName}${JSON.stringify(base)} x1000`,
      };
    },
  },
  {
    name: "remove-runtime-metric",
    family: "runtime",
    models: "a runtime gauge not collected (default metrics never registered on the served registry)",
    killedBy: "runtime.event-loop",
    apply(e, rng) {
      const service = rng.pick(e.services.filter((s) => s.contract.runtimeMetrics.eventLoopLagSeconds));
      if (!service) return undefined;
      const name = service.contract.runtimeMetrics.eventLoopLagSeconds!;
      const mine = (s: MetricSample) =>
        s.name === name && s.labels[service.contract.labels.instance] === service.instance;
      return {
        evidence: withSamples(e, "end", (samples) => samples.filter((s) => !mine(s))),
        change: `${service.name} exposes no ${name}`,
      };
    },
  },
  {
    name: "freeze-gauge",
    family: "runtime",
    models: "a gauge set once at start-up and never updated",
    killedBy: "runtime.heap",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const name = service.contract.runtimeMetrics.heapUsedBytes;
      const range = e.metrics.range.map((s) =>
        s.name === name && s.labels[service.contract.labels.instance] === service.instance
          ? { ...s, values: s.values.map(([t]) => [t, s.values[0]![1]] as [number, number]) }
          : s,
      );
      return {
        evidence: { ...e, metrics: { ...e.metrics, range } },
        change: `${service.name} ${name} frozen over the run`,
      };
    },
  },
  {
    name: "freeze-gc-count",
    family: "runtime",
    models: "GC metrics that never update (an observer not registered)",
    killedBy: "runtime.gc",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const name = `${service.contract.runtimeMetrics.gcDuration.name}_count`;
      return { evidence: frozenCounter(e, service, name), change: `${service.name} ${name} did not rise` };
    },
  },
  {
    name: "flip-readiness-poll",
    family: "probes",
    models: "a readiness probe that fails with no dependency down",
    killedBy: "probes.baseline-healthy",
    apply(e, rng, expectations) {
      const faulted = new Set(e.faults.map((f) => f.target.split(/[-.]/)[0]));
      const polls = judgedPolls(e, expectations).filter(
        (p) => p.probe === "readyz" && p.status === 200 && !faulted.has(p.service),
      );
      const victim = rng.pick(polls);
      if (!victim) return undefined;
      return {
        evidence: { ...e, probes: e.probes.map((p) => (p === victim ? { ...p, status: 503 } : p)) },
        change: `${victim.service} /readyz answered 503 at +${victim.atMs - e.window.startMs} ms`,
      };
    },
  },
  {
    name: "fail-liveness-poll",
    family: "probes",
    models: "a liveness probe that times out once",
    killedBy: "probes.liveness-stable",
    apply(e, rng, expectations) {
      const victim = rng.pick(judgedPolls(e, expectations).filter((p) => p.probe === "healthz"));
      if (!victim) return undefined;
      return {
        evidence: { ...e, probes: e.probes.map((p) => (p === victim ? { ...p, status: 0, error: "timed out" } : p)) },
        change: `${victim.service} /healthz timed out at +${victim.atMs - e.window.startMs} ms`,
      };
    },
  },
  {
    name: "hide-readiness-flip",
    family: "probes",
    models: "a readiness probe that ignores the dependency the fault took down",
    killedBy: "probes.readiness-flip",
    apply(e) {
      const down = e.probes.filter((p) => p.probe === "readyz" && p.status === 503);
      if (!down.length) return undefined;
      const ok = { status: "ok", checks: {} };
      return {
        evidence: { ...e, probes: e.probes.map((p) => (down.includes(p) ? { ...p, status: 200, body: ok } : p)) },
        change: `${down.length} /readyz 503 answers turned 200`,
      };
    },
  },
  {
    name: "drop-log-trace-id",
    family: "correlation",
    models: "a log line written outside the request's context (no trace id)",
    killedBy: "correlation.logs",
    apply(e, rng) {
      // Lines of traced requests only: an unsampled request's lines carry no trace id to lose.
      const ids = new Set(tracedRequests(e).map((r) => r.id));
      const service = rng.pick(Object.keys(e.logs));
      const key = e.services.find((s) => s.name === service)?.contract.logs;
      if (!service || !key) return undefined;
      const victim = rng.pick(
        e.logs[service]!.filter(
          (l) => typeof l[key.requestId] === "string" && ids.has(l[key.requestId] as string) && l[key.traceId],
        ),
      );
      if (!victim) return undefined;
      const { [key.traceId]: _dropped, ...rest } = victim;
      return {
        evidence: { ...e, logs: { ...e.logs, [service]: e.logs[service]!.map((l) => (l === victim ? rest : l)) } },
        change: `${service} log line of request ${String(victim[key.requestId])} lost its ${key.traceId}`,
      };
    },
  },
  {
    name: "exemplar-to-missing-trace",
    family: "correlation",
    models: "an exemplar taken from a stale or unsampled context",
    killedBy: "correlation.exemplars",
    apply(e, rng) {
      const victim = rng.pick(e.metrics.exemplars);
      if (!victim) return undefined;
      const traceId = hex(rng, 32);
      return {
        evidence: {
          ...e,
          metrics: { ...e.metrics, exemplars: e.metrics.exemplars.map((x) => (x === victim ? { ...x, traceId } : x)) },
        },
        change: `exemplar of ${victim.name} points at ${traceId}`,
      };
    },
  },
  {
    name: "unexplained-5xx",
    family: "metrics",
    models: "a failure nothing injected (a real bug the telemetry must not hide)",
    killedBy: "metrics.unexplained-failures",
    apply(e, rng) {
      // Clear of every fault's window and of the grace the judge gives its kind after it.
      const faultFree = (r: RequestRecord) =>
        e.faults.every(
          (f) =>
            r.endMs < f.appliedAtMs - 1_000 ||
            r.startMs > (f.revertedAtMs ?? e.window.endMs) + (FAULT_EFFECTS[f.kind]?.graceMs ?? 0) + 1_000,
        );
      const victim = rng.pick(e.requests.filter((r) => isSuccess(r.status) && faultFree(r)));
      if (!victim) return undefined;
      return {
        evidence: { ...e, requests: e.requests.map((r) => (r === victim ? { ...r, status: 502 } : r)) },
        change: `request ${victim.id} answered 502 outside every fault`,
      };
    },
  },
  {
    name: "shift-fault-window",
    family: "metrics",
    models: "a fault journal whose times are off (the fault happened at another time than recorded)",
    killedBy: "metrics.unexplained-failures",
    apply(e) {
      // A fault that fails calls: the failures it explained are left without an explanation.
      const fault = e.faults.find(
        (f) => FAULT_EFFECTS[f.kind]?.fails && e.requests.some((r) => !isSuccess(r.status)) && f.revertedAtMs,
      );
      if (!fault) return undefined;
      const shift = e.window.endMs - e.window.startMs + 5_000;
      const later = (ms: number | undefined) => (ms === undefined ? undefined : ms + shift);
      return {
        evidence: {
          ...e,
          faults: e.faults.map((f) =>
            f === fault
              ? {
                  ...f,
                  appliedAtMs: f.appliedAtMs + shift,
                  revertStartedAtMs: later(f.revertStartedAtMs),
                  revertedAtMs: later(f.revertedAtMs),
                }
              : f,
          ),
        },
        change: `${fault.target} window moved ${shift} ms later`,
      };
    },
  },
  {
    name: "drop-request",
    family: "traces",
    models: "a driver that loses a request record",
    killedBy: "traces.complete",
    apply(e, rng) {
      const victim = rng.pick(e.requests);
      if (!victim) return undefined;
      return {
        evidence: { ...e, requests: e.requests.filter((r) => r !== victim) },
        change: `request ${victim.id} missing from the request log`,
      };
    },
  },
  {
    name: "gauge-named-total",
    family: "hygiene",
    models: "a gauge named like a counter",
    killedBy: "hygiene.naming",
    apply(e, rng) {
      const service = rng.pick(Object.keys(e.metrics.exposition));
      const text = service && e.metrics.exposition[service];
      const gauge = text && /^# TYPE (\w+) gauge$/m.exec(text)?.[1];
      if (!service || !text || !gauge) return undefined;
      const renamed = text.replace(new RegExp(`\\b${gauge}\\b`, "g"), `${gauge}_total`);
      return {
        evidence: { ...e, metrics: { ...e.metrics, exposition: { ...e.metrics.exposition, [service]: renamed } } },
        change: `${service} gauge ${gauge} renamed ${gauge}_total`,
      };
    },
  },
  {
    name: "raw-path-route",
    family: "hygiene",
    models: "requests labelled with the raw URL path instead of the route template",
    killedBy: "hygiene.route-labels",
    apply(e, rng) {
      const edge = e.services.find((s) => s.role === "edge");
      const series = edge && rng.pick(risenSeries(e, (s) => (s === edge ? [s.contract.httpServerRequests.name] : [])));
      if (!edge || !series) return undefined;
      const key = edge.contract.labels.httpRoute;
      const raw = series.labels[key]!.replace(/:\w+/g, "x-1");
      if (raw === series.labels[key]) return undefined;
      const relabel = (samples: MetricSample[]) =>
        samples.map((s) => (sameSeries(s, series) ? { ...s, labels: { ...s.labels, [key]: raw } } : s));
      return {
        evidence: withSamples(withSamples(e, "start", relabel), "end", relabel),
        change: `${series.name} labelled route="${raw}"`,
      };
    },
  },
  {
    name: "request-id-label",
    family: "hygiene",
    models: "a request id used as a metric label (unbounded cardinality)",
    killedBy: "hygiene.cardinality",
    apply(e, rng) {
      const series = rng.pick(risenSeries(e, counters));
      const request = rng.pick(e.requests);
      if (!series || !request) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) => [
          ...samples,
          { ...series, labels: { ...series.labels, request_id: request.id } },
        ]),
        change: `${series.name} got a request_id="${request.id}" series`,
      };
    },
  },
  {
    name: "fast-latency-window",
    family: "metrics",
    models: "an injected latency the spans do not show (a delay applied outside the span)",
    killedBy: "metrics.latency-shift",
    apply(e, rng) {
      const fault = rng.pick(e.faults.filter((f) => f.kind === "latency" || f.kind === "link-latency"));
      if (!fault) return undefined;
      // A service's latency shows on its server spans, a link's on its caller's client spans.
      const [service, kind] =
        fault.kind === "latency" ? [fault.target.split(".")[0], "server"] : [fault.target.split("-")[0], "client"];
      const slowed = (s: Span) => s.service === service && s.kind === kind;
      const delayUs = Number(fault.params.ms) * 1000;
      const evidence = mapTraces(e, (spans) =>
        spans.some((s) => slowed(s) && s.durationUs >= delayUs * 0.9)
          ? spans.map((s) => (slowed(s) ? { ...s, durationUs: Math.round(s.durationUs / 10) } : s))
          : undefined,
      );
      return evidence && { evidence, change: `${fault.target} spans show a tenth of the injected delay` };
    },
  },
  {
    name: "hide-injected-errors",
    family: "metrics",
    models: "a server counter that labels injected failures as successes",
    killedBy: "metrics.error-rate",
    apply(e) {
      const fault = e.faults.find((f) => f.kind === "error");
      const service = fault && e.services.find((s) => s.name === fault.target.split(".")[0]);
      if (!fault || !service) return undefined;
      const c = service.contract;
      const code = String(fault.params.grpcCode ?? fault.params.httpStatus);
      const codeKey = service.protocol === "grpc" ? c.labels.grpcCode : c.labels.httpStatusCode;
      const name = service.protocol === "grpc" ? c.grpcServerHandled.name : c.httpServerRequests.name;
      const mine = (s: MetricSample) =>
        s.name === name && s.labels[c.labels.instance] === service.instance && s.labels[codeKey] === code;
      const victims = e.metrics.end.filter(mine);
      if (!victims.some((v) => v.value > (e.metrics.start.find((s) => sameSeries(s, v))?.value ?? 0))) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) =>
            mine(s) ? { ...s, value: e.metrics.start.find((x) => sameSeries(x, s))?.value ?? 0 } : s,
          ),
        ),
        change: `${service.name} ${name}{${codeKey}="${code}"} did not rise`,
      };
    },
  },
  {
    name: "second-root",
    family: "traces",
    models: "a service that starts a new trace instead of continuing the caller's (context not extracted)",
    killedBy: "traces.single-root",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e, (r) => r.route.startsWith("POST")));
      const victim =
        r &&
        rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" && s.parentSpanId !== r.parentSpanId));
      if (!r || !victim) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => (s.spanId === victim.spanId ? { ...s, parentSpanId: undefined } : s)),
        ),
        change: `${victim.service} server span of trace ${r.traceId} made a root`,
      };
    },
  },
  {
    name: "extra-hop",
    family: "traces",
    models: "a call the route does not make (a stray cache lookup, a retry to another service)",
    killedBy: "traces.hop-graph",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e));
      const root = r && edgeSpan(e, e.traces[r.traceId]!, r);
      if (!r || !root) return undefined;
      const stray: Span = {
        ...root,
        spanId: hex(rng, 16),
        parentSpanId: root.spanId,
        kind: "client",
        name: "GET",
        status: "unset",
        attributes: { "db.system.name": "redis", "db.system": "redis" },
      };
      return {
        evidence: withTrace(e, r.traceId, (spans) => [...spans, stray]),
        change: `a ${root.service} -> redis client span added to trace ${r.traceId}`,
      };
    },
  },
  {
    name: "duplicate-server-span",
    family: "traces",
    models: "a server span recorded twice for one call (two instrumentations of the same library)",
    killedBy: "traces.client-server-pairs",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e));
      const server =
        r &&
        rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" && s.parentSpanId !== r.parentSpanId));
      if (!r || !server) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) => [...spans, { ...server, spanId: hex(rng, 16) }]),
        change: `${server.service} server span of trace ${r.traceId} duplicated`,
      };
    },
  },
  {
    name: "error-off-path",
    family: "traces",
    models: "an error handler that marks a span the failure never passed through",
    killedBy: "traces.error-path",
    apply(e, rng) {
      const r = rng.pick(tracedRequests(e, (r) => placedFailure(e, r)));
      const victim =
        r &&
        rng.pick(
          e.traces[r.traceId]!.spans.filter(
            (s) => (s.kind === "server" || s.kind === "client") && s.status !== "error",
          ),
        );
      if (!r || !victim) return undefined;
      return {
        evidence: withTrace(e, r.traceId, (spans) =>
          spans.map((s) => (s.spanId === victim.spanId ? { ...s, status: "error" } : s)),
        ),
        change: `${victim.service} ${victim.kind} span of failed trace ${r.traceId} set to ERROR`,
      };
    },
  },
  {
    name: "edge-counter-extra",
    family: "metrics",
    models: "an edge counter that counts something the driver never sent (probe or retry traffic)",
    killedBy: "metrics.edge-status-counts",
    apply(e, rng) {
      const edge = e.services.find((s) => s.role === "edge");
      const series = edge && rng.pick(risenSeries(e, (s) => (s === edge ? [s.contract.httpServerRequests.name] : [])));
      if (!series) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (sameSeries(s, series) ? { ...s, value: s.value + 1 } : s)),
        ),
        change: `${series.name}${JSON.stringify(series.labels)} +1`,
      };
    },
  },
  {
    name: "client-counter-extra",
    family: "metrics",
    models: "a client that counts a call its server never received (a retry counted twice)",
    killedBy: "metrics.hop-agreement",
    apply(e, rng) {
      const series = rng.pick(
        risenSeries(e, (s) => [s.contract.grpcClientHandled.name, s.contract.httpClientRequests.name]),
      );
      if (!series) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (sameSeries(s, series) ? { ...s, value: s.value + 1 } : s)),
        ),
        change: `${series.name}${JSON.stringify(series.labels)} +1`,
      };
    },
  },
  {
    name: "unmapped-error-code",
    family: "metrics",
    models: "errors answered with a generic 500 instead of the code the error table gives",
    killedBy: "metrics.status-labels",
    apply(e) {
      const edge = e.services.find((s) => s.role === "edge");
      if (!edge) return undefined;
      const key = edge.contract.labels.httpStatusCode;
      const series = risenSeries(e, (s) => (s === edge ? [s.contract.httpServerRequests.name] : [])).find(
        (s) => Number(s.labels[key]) >= 500,
      );
      if (!series) return undefined;
      const relabel = (samples: MetricSample[]) =>
        samples.map((s) => (sameSeries(s, series) ? { ...s, labels: { ...s.labels, [key]: "500" } } : s));
      return {
        evidence: withSamples(withSamples(e, "start", relabel), "end", relabel),
        change: `${series.name} ${series.labels[key]} relabelled 500`,
      };
    },
  },
  {
    name: "target-down",
    family: "runtime",
    models: "a scrape target that stopped answering",
    killedBy: "runtime.up",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const mine = (s: MetricSample) =>
        s.name === service.contract.up && s.labels[service.contract.labels.instance] === service.instance;
      return {
        evidence: withSamples(e, "end", (samples) => samples.map((s) => (mine(s) ? { ...s, value: 0 } : s))),
        change: `${service.name} up = 0`,
      };
    },
  },
  {
    name: "rss-below-heap",
    family: "runtime",
    models: "a memory gauge in the wrong unit (kB reported as bytes)",
    killedBy: "runtime.rss",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const name = service.contract.runtimeMetrics.residentMemoryBytes;
      const mine = (s: MetricSample) =>
        s.name === name && s.labels[service.contract.labels.instance] === service.instance;
      return {
        evidence: withSamples(e, "end", (samples) =>
          samples.map((s) => (mine(s) ? { ...s, value: Math.round(s.value / 1024) } : s)),
        ),
        change: `${service.name} ${name} / 1024`,
      };
    },
  },
  {
    name: "cpu-stalled",
    family: "runtime",
    models: "a CPU counter that is not updated (a cached process-stats read)",
    killedBy: "runtime.cpu",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const name = service.contract.runtimeMetrics.cpuSecondsTotal;
      return { evidence: frozenCounter(e, service, name), change: `${service.name} ${name} did not rise` };
    },
  },
  {
    name: "drop-contract-metric",
    family: "hygiene",
    models: "a metric the contract names that the service never registers",
    killedBy: "hygiene.contract-series",
    apply(e, rng) {
      const service = rng.pick(e.services);
      const name = `${(service.protocol === "grpc" ? service.contract.grpcServerHandling : service.contract.httpServerDuration).name}_bucket`;
      const mine = (s: MetricSample) =>
        s.name === name && s.labels[service.contract.labels.instance] === service.instance;
      const drop = (samples: MetricSample[]) => samples.filter((s) => !mine(s));
      return {
        evidence: withSamples(withSamples(e, "start", drop), "end", drop),
        change: `${service.name} exposes no ${name}`,
      };
    },
  },
  {
    name: "hide-liveness-flip",
    family: "probes",
    models: "a liveness probe that does not report the process's own trouble (a blocked loop, a heap over its limit)",
    killedBy: "probes.liveness-flip",
    apply(e) {
      const faulted = new Set(e.faults.filter((f) => f.kind === "stall" || f.kind === "memory").map((f) => f.target));
      const down = e.probes.filter((p) => p.probe === "healthz" && p.status === 503 && faulted.has(p.service));
      if (!down.length) return undefined;
      const ok = { status: "ok", checks: {} };
      return {
        evidence: { ...e, probes: e.probes.map((p) => (down.includes(p) ? { ...p, status: 200, body: ok } : p)) },
        change: `${down.length} /healthz 503 answers of ${[...faulted].join(", ")} turned 200`,
      };
    },
  },
  {
    name: "restart-unseen",
    family: "runtime",
    models: "a process start time read once and cached (or a restart counted as the same process)",
    killedBy: "runtime.restarts",
    apply(e) {
      const fault = e.faults.find((f) => f.kind === "kill" || f.kind === "restart");
      const service = fault && e.services.find((s) => s.name === fault.target);
      if (!service) return undefined;
      const name = service.contract.runtimeMetrics.startTimeSeconds;
      const mine = (s: MetricSample) =>
        s.name === name && s.labels[service.contract.labels.instance] === service.instance;
      const first = e.metrics.start.find(mine);
      if (!first) return undefined;
      return {
        evidence: withSamples(e, "end", (samples) => samples.map((s) => (mine(s) ? { ...s, value: first.value } : s))),
        change: `${service.name} ${name} unchanged across its ${fault!.kind}`,
      };
    },
  },
  {
    name: "resource-gauge-flat",
    family: "runtime",
    models: "a runtime gauge that does not follow the process (heap, lag or CPU read from a stale source)",
    killedBy: "runtime.resource-faults",
    apply(e, rng) {
      const fault = rng.pick(e.faults.filter((f) => f.kind === "memory" || f.kind === "stall" || f.kind === "cpu"));
      const service = fault && e.services.find((s) => s.name === fault.target);
      if (!fault || !service) return undefined;
      const r = service.contract.runtimeMetrics;
      const name =
        fault.kind === "memory"
          ? r.heapUsedBytes
          : fault.kind === "stall"
            ? r.eventLoopLagMaxSeconds
            : r.cpuSecondsTotal;
      const from = fault.appliedAtMs / 1000 - 3;
      const range = e.metrics.range.map((series) => {
        if (series.name !== name || series.labels[service.contract.labels.instance] !== service.instance) return series;
        // Every point from 3 s before the fault on holds the value before it (a counter: its rate before it).
        const before = series.values.filter(([t]) => t < from).at(-1) ?? series.values[0];
        if (!before) return series;
        const previous = series.values.filter(([t]) => t < from).at(-2) ?? before;
        const step = fault.kind === "cpu" ? (before[1] - previous[1]) / Math.max(1e-9, before[0] - previous[0]) : 0;
        return {
          ...series,
          values: series.values.map(([t, v]): [number, number] =>
            t < from ? [t, v] : [t, before[1] + step * (t - before[0])],
          ),
        };
      });
      return {
        evidence: { ...e, metrics: { ...e.metrics, range } },
        change: `${service.name} ${name} does not move during its ${fault.kind} fault`,
      };
    },
  },
  {
    name: "readyz-never-draining",
    family: "probes",
    models: "a SIGTERM handler that closes the listener at once, without turning readiness off first",
    killedBy: "probes.graceful-drain",
    apply(e) {
      const restarted = new Set(e.faults.filter((f) => f.kind === "restart").map((f) => f.target));
      const draining = e.probes.filter(
        (p) => restarted.has(p.service) && p.probe === "readyz" && p.status === 503 && p.body?.checks.draining,
      );
      if (!draining.length) return undefined;
      const refused = { status: 0, body: undefined, outcome: "refused" as const, error: "fetch failed: ECONNREFUSED" };
      return {
        evidence: { ...e, probes: e.probes.map((p) => (draining.includes(p) ? { ...p, ...refused } : p)) },
        change: `${draining.length} draining /readyz answers of ${[...restarted].join(", ")} turned refused`,
      };
    },
  },
  {
    name: "root-sampling-skew",
    family: "traces",
    models: "a root sampler at the wrong ratio (the default 1.0, or an environment variable that never reached it)",
    killedBy: "traces.sampling",
    apply(e) {
      const roots = e.requests.filter((r) => r.parent === "none" && r.responseTraceId);
      if (roots.length < 10) return undefined;
      // Every root the edge did not sample now claims to be sampled, with the trace it would then have left.
      const flipped = new Set(roots.filter((r) => !r.responseSampled));
      if (!flipped.size) return undefined;
      return {
        evidence: {
          ...e,
          requests: e.requests.map((r) => (flipped.has(r) ? { ...r, responseSampled: true } : r)),
        },
        change: `${flipped.size} of ${roots.length} parentless requests answered sampled=1`,
      };
    },
  },
  {
    name: "unsampled-leaves-spans",
    family: "traces",
    models: "a service that sets sampled=1 on calls of an unsampled request (partial traces downstream)",
    killedBy: "traces.complete",
    apply(e, rng) {
      const unsampled = rng.pick(e.requests.filter((r) => r.parent === "unsampled"));
      const donor = tracedRequests(e).find((r) => e.traces[r.traceId]!.spans.some((s) => s.parentSpanId));
      if (!unsampled || !donor) return undefined;
      const span = e.traces[donor.traceId]!.spans.find((s) => s.parentSpanId)!;
      return {
        evidence: {
          ...e,
          traces: {
            ...e.traces,
            [unsampled.traceId]: { traceId: unsampled.traceId, spans: [{ ...span, traceId: unsampled.traceId }] },
          },
        },
        change: `unsampled request ${unsampled.id} left a ${span.service} ${span.kind} span`,
      };
    },
  },
  {
    name: "sdk-drops-spans",
    family: "traces",
    models:
      "a span processor that drops spans (a full export queue) while the traces that reached the store look whole",
    killedBy: "traces.span-pipeline",
    apply(e, rng) {
      // A restarted service counts again from zero: its SDK side is not compared.
      const restarted = new Set(e.faults.filter((f) => f.kind === "kill" || f.kind === "restart").map((f) => f.target));
      const name = rng.pick(Object.keys(e.spanPipeline ?? {}).filter((s) => !restarted.has(s)));
      const counts = name ? e.spanPipeline![name]! : undefined;
      if (!name || !counts) return undefined;
      const dropped = Math.max(1, Math.round((counts.after.ended - counts.before.ended) * 0.01));
      return {
        evidence: {
          ...e,
          spanPipeline: {
            ...e.spanPipeline,
            [name]: { ...counts, after: { ...counts.after, ended: counts.after.ended + dropped } },
          },
        },
        change: `${name}'s SDK ended ${dropped} more span(s) than it exported`,
      };
    },
  },
];
