import { faultEffect, faultLocation, faultSignature, graceMsOf } from "../../../assertions/faults";
import type { MetricSample, RequestRecord } from "../../../assertions/evidence";
import type { MutationOperator } from "../../../assertions/mutation";
import { isSuccess } from "../../../assertions/trace-shape";
import type { Span } from "../../../assertions/trace-model";
import {
  counters,
  histograms,
  mapTraces,
  risenSeries,
  sameSeries,
  spanKeys,
  tracedRequests,
  withSamples,
  withTrace,
} from "../../../assertions/mutation-support";

// Metric operators: RED counters and histograms that disagree with the spans, the requests or the fault journal.

/** Flips the gRPC status-code attribute of one server span (OK <-> UNAVAILABLE). */
export const rewriteGrpcCode: MutationOperator = {
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
};

/** Doubles the rise of one RED counter series over the run. */
export const doubleCounterDelta: MutationOperator = {
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
};

/** Moves one call of a RED counter series to the series of another status code. */
export const moveCountsBetweenCodes: MutationOperator = {
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
};

/** Removes one risen RED counter series from both snapshots. */
export const dropSeries: MutationOperator = {
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
};

/** Adds 1 to one histogram's _count at the end of the run. */
export const histogramCount: MutationOperator = {
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
};

/** Turns one successful request clear of every fault into a 502. */
export const unexplained5xx: MutationOperator = {
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
          r.startMs > (f.revertedAtMs ?? e.window.endMs) + graceMsOf(f, undefined, e.window.endMs) + 1_000,
      );
    const victim = rng.pick(e.requests.filter((r) => isSuccess(r.status) && faultFree(r)));
    if (!victim) return undefined;
    return {
      evidence: { ...e, requests: e.requests.map((r) => (r === victim ? { ...r, status: 502 } : r)) },
      change: `request ${victim.id} answered 502 outside every fault`,
    };
  },
};

/** Moves the journaled window of a fault that fails calls past the end of the run. */
export const shiftFaultWindow: MutationOperator = {
  name: "shift-fault-window",
  family: "metrics",
  models: "a fault journal whose times are off (the fault happened at another time than recorded)",
  killedBy: "metrics.unexplained-failures",
  apply(e) {
    // A fault that fails calls: the failures it explained are left without an explanation.
    const fault = e.faults.find(
      (f) => faultEffect(f)?.fails && e.requests.some((r) => !isSuccess(r.status)) && f.revertedAtMs,
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
                inPlaceAtMs: later(f.inPlaceAtMs),
                revertStartedAtMs: later(f.revertStartedAtMs),
                revertedAtMs: later(f.revertedAtMs),
              }
            : f,
        ),
      },
      change: `${fault.target} window moved ${shift} ms later`,
    };
  },
};

/** Shortens the spans a latency or link-latency fault slowed to a tenth. */
export const fastLatencyWindow: MutationOperator = {
  name: "fast-latency-window",
  family: "metrics",
  models: "an injected latency the spans do not show (a delay applied outside the span)",
  killedBy: "metrics.latency-shift",
  apply(e, rng) {
    const fault = rng.pick(e.faults.filter((f) => faultSignature(f.kind).latency));
    if (!fault) return undefined;
    // A service's latency shows on its server spans, a link's on its caller's client spans.
    const at = faultLocation(fault);
    const [service, kind] = "link" in at ? [at.link.from, "client"] : [at.service, "server"];
    const slowed = (s: Span) => s.service === service && s.kind === kind;
    const delayUs = Number(fault.params.ms) * 1000;
    const evidence = mapTraces(e, (spans) =>
      spans.some((s) => slowed(s) && s.durationUs >= delayUs * 0.9)
        ? spans.map((s) => (slowed(s) ? { ...s, durationUs: Math.round(s.durationUs / 10) } : s))
        : undefined,
    );
    return evidence && { evidence, change: `${fault.target} spans show a tenth of the injected delay` };
  },
};

/** Adds 1 to one risen edge HTTP server counter series. */
export const edgeCounterExtra: MutationOperator = {
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
};

/** Adds 1 to one risen client counter series. */
export const clientCounterExtra: MutationOperator = {
  name: "client-counter-extra",
  family: "metrics",
  models: "a client that counts a call its server never received (a retry counted twice)",
  killedBy: "metrics.hop-agreement",
  apply(e, rng) {
    const series = rng.pick(
      risenSeries(e, (s) =>
        [s.contract.grpcClientHandled?.name, s.contract.httpClientRequests?.name].filter((n) => n !== undefined),
      ),
    );
    if (!series) return undefined;
    return {
      evidence: withSamples(e, "end", (samples) =>
        samples.map((s) => (sameSeries(s, series) ? { ...s, value: s.value + 1 } : s)),
      ),
      change: `${series.name}${JSON.stringify(series.labels)} +1`,
    };
  },
};

/** Relabels one risen edge 5xx series 500. */
export const unmappedErrorCode: MutationOperator = {
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
};
