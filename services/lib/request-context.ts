import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { REQUEST_ID_ATTRIBUTE, REQUEST_ID_HEADER } from "./metric-names";

export { REQUEST_ID_ATTRIBUTE, REQUEST_ID_HEADER };

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

/** Runs fn outside any request: no request id and no active span (what a callback that lost its context sees). */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(() => context.with(ROOT_CONTEXT, fn));
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
