import type { Evidence, LogLine, MetricSample, RequestRecord } from "../../../assertions/evidence";
import type { MutationOperator } from "../../../assertions/mutation";
import type { Span, Trace } from "../../../assertions/trace-model";
import {
  counters,
  histograms,
  MARGIN_MIN_OBSERVATIONS,
  marginCount,
  pickSome,
  riseOf,
  risenSeries,
  sameSeries,
  spanKeys,
  tracedRequests,
  withSamples,
} from "../../../assertions/mutation-support";
import { judgedPolls } from "./probes";

// Margin operators: each moves a minority (1-10%, at least one) of one kind's observations by one unit of scale, where
// the wholesale operators change every sample, span or answer of a kind. A judge that kills every wholesale mutant can
// still be blind here: a survivor is a finding about the judge, not a reason to make the operator coarser.

/** Whether `n` observations leave room for a margin (one of them is at most a tenth). */
const enough = (n: number) => n >= MARGIN_MIN_OBSERVATIONS;

/** `k of n (p%)`, as a margin mutant's change text says how much it moved. */
const share = (k: number, n: number) => `${k} of ${n} (${((k / n) * 100).toFixed(1)}%)`;

/** Whether a bucket sample belongs to the histogram series whose _count (or _sum) sample is `series`. */
const bucketOf = (bucketName: string, series: MetricSample) => (s: MetricSample) =>
  s.name === bucketName &&
  Object.keys(s.labels).length === Object.keys(series.labels).length + 1 &&
  Object.entries(series.labels).every(([k, v]) => s.labels[k] === v);

/**
 * A few calls of one histogram series observed in milliseconds (x1000): each moved call's duration is estimated from
 * its bucket (the middle of its bounds), its _sum grows by 999x that, and the call leaves every bucket below its new
 * duration, so the histogram stays consistent in itself (buckets cumulative, +Inf == _count) and only the spans can
 * tell. The range series (_sum over time) are left: the instants of the moved calls are not known.
 */
export const marginHistogramObservations: MutationOperator = {
  name: "margin-histogram-observations",
  family: "hygiene",
  scope: "margin",
  models: "a few calls observed in milliseconds into a _seconds histogram (one code path that forgets to divide)",
  killedBy: "hygiene.histograms",
  apply(e, rng) {
    const count = rng.pick(
      risenSeries(e, (s) => histograms(s).map((n) => `${n}_count`)).filter((s) => enough(riseOf(e, s))),
    );
    if (!count) return undefined;
    const n = riseOf(e, count);
    const base = count.name.replace(/_count$/, "");
    const ofSeries = bucketOf(`${base}_bucket`, count);
    const le = (s: MetricSample) => (s.labels.le === "+Inf" ? Infinity : Number(s.labels.le));
    const startOf = new Map(e.metrics.start.filter(ofSeries).map((s) => [s.labels.le, s.value]));
    // Each bucket's own calls (not cumulative) over the run, by bound.
    const cumulative = e.metrics.end
      .filter(ofSeries)
      .map((s) => ({ le: le(s), rise: s.value - (startOf.get(s.labels.le) ?? 0) }))
      .sort((a, b) => a.le - b.le);
    if (cumulative.at(-1)?.le !== Infinity || cumulative.at(-1)!.rise !== n) return undefined;
    // The calls in rank order, each as its bucket's bounds; those with a known non-zero duration can be moved.
    const calls: { lo: number; hi: number }[] = [];
    cumulative.forEach((b, i) => {
      const lo = i ? cumulative[i - 1]!.le : 0;
      const own = b.rise - (i ? cumulative[i - 1]!.rise : 0);
      for (let j = 0; j < own; j++) calls.push({ lo, hi: b.le });
    });
    const movable = calls.filter((c) => Number.isFinite(c.hi) || c.lo > 0);
    const k = Math.min(marginCount(n, rng)!, movable.length);
    if (k === 0) return undefined;
    const moved = pickSome(movable, k, rng).map((c) => {
      const seconds = Number.isFinite(c.hi) ? (c.lo + c.hi) / 2 : c.lo;
      return { ...c, seconds, observed: seconds * 1000 };
    });
    const added = moved.reduce((total, c) => total + c.observed - c.seconds, 0);
    const sum = { ...count, name: `${base}_sum` };
    return {
      evidence: withSamples(e, "end", (samples) =>
        samples.map((s) => {
          if (sameSeries(s, sum)) return { ...s, value: s.value + added };
          if (!ofSeries(s)) return s;
          // A moved call leaves the buckets from its own up to (not including) the first that holds its new value.
          const left = moved.filter((c) => le(s) >= c.hi && le(s) < c.observed).length;
          return left ? { ...s, value: s.value - left } : s;
        }),
      ),
      change: `${share(k, n)} calls of ${base}${JSON.stringify(count.labels)} observed x1000 (_sum +${added.toFixed(3)} s, buckets moved)`,
    };
  },
};

/** Moves a few of one status code's increments of a RED counter series to another code. */
export const marginCounterCodes: MutationOperator = {
  name: "margin-counter-codes",
  family: "metrics",
  scope: "margin",
  models: "a status label read at the wrong moment on a few calls, counting them under another code",
  killedBy: "metrics.span-counter-agreement",
  apply(e, rng) {
    const series = rng.pick(risenSeries(e, counters).filter((s) => enough(riseOf(e, s))));
    if (!series) return undefined;
    const n = riseOf(e, series);
    const k = marginCount(n, rng)!;
    const l = e.services.find((svc) => series.labels[svc.contract.labels.instance] === svc.instance)!.contract.labels;
    const codeKey = series.labels[l.grpcCode] !== undefined ? l.grpcCode : l.httpStatusCode;
    const code = series.labels[codeKey];
    const other =
      codeKey === l.grpcCode ? (code === "OK" ? "UNAVAILABLE" : "OK") : code?.startsWith("2") ? "500" : "200";
    const moved = { ...series, labels: { ...series.labels, [codeKey]: other } };
    return {
      evidence: withSamples(e, "end", (samples) => {
        const out = samples.map((s) =>
          sameSeries(s, series)
            ? { ...s, value: s.value - k }
            : sameSeries(s, moved)
              ? { ...s, value: s.value + k }
              : s,
        );
        return out.some((s) => sameSeries(s, moved)) ? out : [...out, { ...moved, value: k }];
      }),
      change: `${share(k, n)} calls of ${series.name}${JSON.stringify(series.labels)} counted as ${codeKey}="${other}"`,
    };
  },
};

/** Multiplies a few range points of one service's heap-used gauge by 1000. */
export const marginGaugeSamples: MutationOperator = {
  name: "margin-gauge-samples",
  family: "runtime",
  scope: "margin",
  models: "a heap gauge that reads kB as bytes now and then (x1000 on a few scrapes: a second, racy code path)",
  killedBy: "runtime.heap",
  apply(e, rng) {
    const gauges = e.services.flatMap((service) => {
      const name = service.contract.runtimeMetrics?.heapUsedBytes;
      return e.metrics.range
        .filter(
          (s) =>
            s.name === name &&
            s.labels[service.contract.labels.instance] === service.instance &&
            enough(s.values.length),
        )
        .map((series) => ({ service, series }));
    });
    const pick = rng.pick(gauges);
    if (!pick) return undefined;
    const n = pick.series.values.length;
    const k = marginCount(n, rng)!;
    const at = new Set(pickSome(pick.series.values, k, rng));
    return {
      evidence: {
        ...e,
        metrics: {
          ...e.metrics,
          range: e.metrics.range.map((s) =>
            s === pick.series ? { ...s, values: s.values.map((p) => (at.has(p) ? [p[0], p[1] * 1000] : p)) } : s,
          ),
        },
      },
      change: `${share(k, n)} range points of ${pick.service.name} ${pick.series.name} x1000`,
    };
  },
};

/** Turns a few judged 200 /readyz polls of one service no fault targets into 503s. */
export const marginProbeAnswers: MutationOperator = {
  name: "margin-probe-answers",
  family: "probes",
  scope: "margin",
  models: "a readiness probe that fails now and then with no dependency down (a check with too short a timeout)",
  killedBy: "probes.baseline-healthy",
  apply(e, rng, expectations) {
    const faulted = new Set(e.faults.map((f) => f.target.split(/[-.]/)[0]));
    const polls = judgedPolls(e, expectations).filter(
      (p) => p.probe === "readyz" && p.status === 200 && !faulted.has(p.service),
    );
    const services = [...new Set(polls.map((p) => p.service))].filter((s) =>
      enough(polls.filter((p) => p.service === s).length),
    );
    const service = rng.pick(services);
    if (!service) return undefined;
    const mine = polls.filter((p) => p.service === service);
    const k = marginCount(mine.length, rng)!;
    const flipped = new Set(pickSome(mine, k, rng));
    return {
      evidence: { ...e, probes: e.probes.map((p) => (flipped.has(p) ? { ...p, status: 503 } : p)) },
      change: `${share(k, mine.length)} judged /readyz polls of ${service} answered 503`,
    };
  },
};

/**
 * Gives a few log lines of one service the span id of their caller (the remote parent of the service's server span)
 * instead of the server span's own: a logger that reads the incoming traceparent, not the active span.
 */
export const marginLogSpanIds: MutationOperator = {
  name: "margin-log-span-ids",
  family: "correlation",
  scope: "margin",
  models: "a few log lines carrying the caller's span id (read from the traceparent header, not the active span)",
  killedBy: "correlation.logs",
  apply(e, rng) {
    const byRequest = new Map<string, RequestRecord>();
    for (const r of tracedRequests(e)) byRequest.set(r.id, r).set(r.traceId, r);
    const candidates = (service: string) => {
      const keys = e.services.find((s) => s.name === service)?.contract.logs;
      if (!keys) return [];
      return (e.logs[service] ?? []).flatMap((line) => {
        const id = line[keys.requestId ?? keys.traceId];
        const r = typeof id === "string" ? byRequest.get(id) : undefined;
        const server = r && serverSpanOf(e.traces[r.traceId]!, service, line[keys.spanId]);
        return server?.parentSpanId ? [{ line, parent: server.parentSpanId, key: keys.spanId }] : [];
      });
    };
    const service = rng.pick(Object.keys(e.logs).filter((s) => enough(candidates(s).length)));
    if (!service) return undefined;
    const lines = candidates(service);
    const k = marginCount(lines.length, rng)!;
    const moved = new Map(pickSome(lines, k, rng).map((c) => [c.line, c]));
    const rewrite = (l: LogLine): LogLine => {
      const c = moved.get(l);
      return c ? { ...l, [c.key]: c.parent } : l;
    };
    return {
      evidence: { ...e, logs: { ...e.logs, [service]: e.logs[service]!.map(rewrite) } },
      change: `${share(k, lines.length)} ${service} log lines carry their caller's span id`,
    };
  },
};

/** The server span of `service` in a trace whose span id a log line names. */
function serverSpanOf(trace: Trace, service: string, spanId: unknown): Span | undefined {
  return trace.spans.find((s) => s.spanId === spanId && s.service === service && s.kind === "server");
}

/** The server spans of one service, over every traced request, each with its trace. */
function serverSpans(e: Evidence, service: string): { traceId: string; span: Span }[] {
  return tracedRequests(e).flatMap((r) =>
    e.traces[r.traceId]!.spans.filter((s) => s.service === service && s.kind === "server").map((span) => ({
      traceId: r.traceId,
      span,
    })),
  );
}

/** The evidence with each picked span replaced by `fn` of it (one copy of each trace it touches). */
function withSpans(e: Evidence, picked: readonly { traceId: string; span: Span }[], fn: (s: Span) => Span): Evidence {
  const traces = { ...e.traces };
  const spans = new Set(picked.map((p) => p.span));
  for (const traceId of new Set(picked.map((p) => p.traceId))) {
    const trace = e.traces[traceId]!;
    traces[traceId] = { ...trace, spans: trace.spans.map((s) => (spans.has(s) ? fn(s) : s)) };
  }
  return { ...e, traces };
}

/** Multiplies the durations of a few server spans of one service by 1000. */
export const marginSpanDurations: MutationOperator = {
  name: "margin-span-durations",
  family: "hygiene",
  scope: "margin",
  models: "a few spans ended with a millisecond clock read as microseconds (x1000), the calls themselves unchanged",
  killedBy: "hygiene.histograms",
  apply(e, rng) {
    const service = rng.pick(e.services.filter((s) => enough(serverSpans(e, s.name).length)))?.name;
    const spans = service ? serverSpans(e, service) : [];
    const k = marginCount(spans.length, rng);
    if (!service || !k) return undefined;
    const picked = pickSome(spans, k, rng);
    return {
      evidence: withSpans(e, picked, (s) => ({ ...s, durationUs: s.durationUs * 1000 })),
      change: `${share(k, spans.length)} ${service} server spans last 1000x longer`,
    };
  },
};

/** Flips the status-code attribute of a few successful server spans of one service (200 -> 500, OK -> UNAVAILABLE). */
export const marginSpanStatus: MutationOperator = {
  name: "margin-span-status",
  family: "metrics",
  scope: "margin",
  models: "a few server spans whose status-code attribute is set before the handler's real answer",
  killedBy: "metrics.span-counter-agreement",
  apply(e, rng) {
    const successful = (service: string) =>
      serverSpans(e, service).filter(({ span }) => {
        const keys = spanKeys(e, span);
        const grpc = span.attributes[keys.grpcStatusCode];
        const http = span.attributes[keys.httpStatusCode];
        return grpc !== undefined ? grpc === 0 || grpc === "OK" : http === 200 || http === "200";
      });
    const service = rng.pick(e.services.filter((s) => enough(successful(s.name).length)))?.name;
    const spans = service ? successful(service) : [];
    const k = marginCount(spans.length, rng);
    if (!service || !k) return undefined;
    const picked = pickSome(spans, k, rng);
    const flipped = (s: Span): [string, string | number] => {
      const keys = spanKeys(e, s);
      const grpc = s.attributes[keys.grpcStatusCode];
      return grpc !== undefined
        ? [keys.grpcStatusCode, typeof grpc === "number" ? 14 : "UNAVAILABLE"]
        : [keys.httpStatusCode, typeof s.attributes[keys.httpStatusCode] === "number" ? 500 : "500"];
    };
    const flip = (s: Span): Span => {
      const [key, code] = flipped(s);
      return { ...s, attributes: { ...s.attributes, [key]: code } };
    };
    const [key, code] = flipped(picked[0]!.span);
    return {
      evidence: withSpans(e, picked, flip),
      change: `${share(k, spans.length)} successful ${service} server spans say ${key}=${code}`,
    };
  },
};
