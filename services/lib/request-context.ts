import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { trace } from "@opentelemetry/api";
import { DEFAULT_CONTRACT } from "../../assertions/contract";

/** The header (HTTP) and metadata key (gRPC) carrying the request id between services. */
export const REQUEST_ID_HEADER = "x-request-id";
/** Span attribute holding the request id. */
export const REQUEST_ID_ATTRIBUTE = DEFAULT_CONTRACT.requestIdAttribute;

interface RequestContext {
  requestId: string;
}

// Our own store rather than OTel baggage: the request id must flow even when tracing is off (overhead baseline).
const storage = new AsyncLocalStorage<RequestContext>();

/** Runs fn with requestId as the current request id (a valid incoming one is kept, else a new UUID). */
export function withRequestId<T>(incoming: string | undefined, fn: () => T): T {
  const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  trace.getActiveSpan()?.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
  return storage.run({ requestId }, fn);
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** trace_id / span_id of the active span when it is sampled (exemplars and log lines), else undefined. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || (ctx.traceFlags & 1) === 0) return undefined;
  return { traceId: ctx.traceId, spanId: ctx.spanId };
}
