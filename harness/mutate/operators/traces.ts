import { faultSignature } from "../../../assertions/faults";
import { faultEffect } from "../../../assertions/faults";
import type { Evidence, RequestRecord } from "../../../assertions/evidence";
import type { MutationOperator } from "../../../assertions/mutation";
import { heldUntil, isSuccess } from "../../../assertions/trace-shape";
import type { Span, Trace } from "../../../assertions/trace-model";
import { hex, mapTraces, spanKeys, tracedRequests, withTrace } from "../../../assertions/mutation-support";

// Trace operators: spans lost, re-parented, mis-marked or invented, and request records that disagree with the traces.

/** The request's outermost span in its trace: the one under the request's parent span, or the root. */
function edgeSpan(e: Evidence, trace: Trace, request: RequestRecord): Span | undefined {
  return trace.spans.find((s) => s.parentSpanId === request.parentSpanId || s.parentSpanId === undefined);
}

/** Failed requests whose failure has a known place (not an overload's, which may fail a call anywhere). */
function placedFailure(e: Evidence, r: RequestRecord): boolean {
  return (
    !isSuccess(r.status) &&
    !e.faults.some(
      (f) =>
        faultEffect(f)?.shapeUnknown &&
        r.startMs <= heldUntil(f, e.window.endMs) + faultEffect(f)!.graceMs &&
        r.endMs >= f.appliedAtMs,
    )
  );
}

/** Removes one inner server or client span from a traced request's trace. */
export const dropSpan: MutationOperator = {
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
};

/** Removes every span of one non-edge service from every trace. */
export const dropServiceSpans: MutationOperator = {
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
};

/** Points one inner span's parent at a span id no trace holds. */
export const reparentToMissing: MutationOperator = {
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
};

/** Sets one server or client span of a successful request to ERROR. */
export const flipSpanStatus: MutationOperator = {
  name: "flip-span-status",
  family: "traces",
  models: "a span marked ERROR on a call that succeeded (or an error handler that marks the wrong span)",
  killedBy: "traces.no-error-on-success",
  apply(e, rng) {
    const r = rng.pick(tracedRequests(e, (r) => isSuccess(r.status)));
    const victim = r && rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" || s.kind === "client"));
    if (!r || !victim) return undefined;
    return {
      evidence: withTrace(e, r.traceId, (spans) =>
        spans.map((s) => (s.spanId === victim.spanId ? { ...s, status: "error" } : s)),
      ),
      change: `${victim.service} ${victim.kind} span of successful trace ${r.traceId} set to ERROR`,
    };
  },
};

/** Makes the edge span's HTTP status disagree with the status the driver got. */
export const rewriteEdgeStatus: MutationOperator = {
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
};

/** Deletes the rpc or http method attribute of one server span. */
export const stripSemconvAttribute: MutationOperator = {
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
};

/** Swaps the request-id attributes of two traced requests. */
export const swapRequestIds: MutationOperator = {
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
      spans.map((s) => {
        const key = spanKeys(e, s).requestId;
        return key !== undefined && s.attributes[key] !== undefined
          ? { ...s, attributes: { ...s.attributes, [key]: id } }
          : s;
      });
    return {
      evidence: withTrace(
        withTrace(e, a.traceId, (s) => relabel(s, b.id)),
        b.traceId,
        (s) => relabel(s, a.id),
      ),
      change: `request ids of traces ${a.traceId} and ${b.traceId} swapped`,
    };
  },
};

/** Removes one request from the driver's request log. */
export const dropRequest: MutationOperator = {
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
};

/** Makes one inner server span of a POST request's trace a root. */
export const secondRoot: MutationOperator = {
  name: "second-root",
  family: "traces",
  models: "a service that starts a new trace instead of continuing the caller's (context not extracted)",
  killedBy: "traces.single-root",
  apply(e, rng) {
    const r = rng.pick(tracedRequests(e, (r) => r.route.startsWith("POST")));
    const victim =
      r && rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" && s.parentSpanId !== r.parentSpanId));
    if (!r || !victim) return undefined;
    return {
      evidence: withTrace(e, r.traceId, (spans) =>
        spans.map((s) => (s.spanId === victim.spanId ? { ...s, parentSpanId: undefined } : s)),
      ),
      change: `${victim.service} server span of trace ${r.traceId} made a root`,
    };
  },
};

/** Adds a redis client span under the edge span of one trace. */
export const extraHop: MutationOperator = {
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
};

/** Adds a copy (new span id) of one inner server span. */
export const duplicateServerSpan: MutationOperator = {
  name: "duplicate-server-span",
  family: "traces",
  models: "a server span recorded twice for one call (two instrumentations of the same library)",
  killedBy: "traces.client-server-pairs",
  apply(e, rng) {
    const r = rng.pick(tracedRequests(e));
    const server =
      r && rng.pick(e.traces[r.traceId]!.spans.filter((s) => s.kind === "server" && s.parentSpanId !== r.parentSpanId));
    if (!r || !server) return undefined;
    return {
      evidence: withTrace(e, r.traceId, (spans) => [...spans, { ...server, spanId: hex(rng, 16) }]),
      change: `${server.service} server span of trace ${r.traceId} duplicated`,
    };
  },
};

/** Sets ERROR on a span not yet marked of a failed request whose failure has a known place. */
export const errorOffPath: MutationOperator = {
  name: "error-off-path",
  family: "traces",
  models: "an error handler that marks a span the failure never passed through",
  killedBy: "traces.error-path",
  apply(e, rng) {
    const r = rng.pick(tracedRequests(e, (r) => placedFailure(e, r)));
    const spans = r ? e.traces[r.traceId]!.spans : [];
    // The server of the failed call itself may end ERROR or not when it finishes after its caller left: not a victim.
    const ofFailedCall = (s: (typeof spans)[number]) =>
      s.kind === "server" &&
      spans.some((c) => c.spanId === s.parentSpanId && c.kind === "client" && c.status === "error");
    const victim =
      r &&
      rng.pick(
        spans.filter((s) => (s.kind === "server" || s.kind === "client") && s.status !== "error" && !ofFailedCall(s)),
      );
    if (!r || !victim) return undefined;
    return {
      evidence: withTrace(e, r.traceId, (spans) =>
        spans.map((s) => (s.spanId === victim.spanId ? { ...s, status: "error" } : s)),
      ),
      change: `${victim.service} ${victim.kind} span of failed trace ${r.traceId} set to ERROR`,
    };
  },
};

/** Marks every unsampled parentless request as answered sampled=1. */
export const rootSamplingSkew: MutationOperator = {
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
};

/** Gives one unsampled request a trace holding a span copied from a traced request. */
export const unsampledLeavesSpans: MutationOperator = {
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
};

/** Makes one service's SDK end 1% more spans than it exported (restarted services excluded). */
export const sdkDropsSpans: MutationOperator = {
  name: "sdk-drops-spans",
  family: "traces",
  models: "a span processor that drops spans (a full export queue) while the traces that reached the store look whole",
  killedBy: "traces.span-pipeline",
  apply(e, rng) {
    // A restarted service counts again from zero: its SDK side is not compared.
    const restarted = new Set(e.faults.filter((f) => faultSignature(f.kind).newLife).map((f) => f.target));
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
};
