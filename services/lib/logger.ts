import pino, { type Logger } from "pino";
import { activeTraceIds, currentRequestId } from "./request-context";

export type { Logger } from "pino";

export interface LoggerHandle {
  logger: Logger;
  /** Writes out buffered lines (before exit). */
  flush(): void;
}

/**
 * Structured JSON lines to `file`: time (ISO), level (label), service, trace_id, span_id, request_id, msg.
 * Trace and request ids come from the active context, so handlers never pass them.
 */
export function createLogger(service: string, file: string): LoggerHandle {
  const destination = pino.destination({ dest: file, sync: false, mkdir: true, minLength: 4096 });
  const logger = pino(
    {
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ids = activeTraceIds();
        const requestId = currentRequestId();
        return {
          ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}),
          ...(requestId ? { request_id: requestId } : {}),
        };
      },
    },
    destination,
  );
  const flush = () => {
    try {
      destination.flushSync();
    } catch {
      // The file is not open yet, so nothing was buffered for it either.
    }
  };
  // Lines are buffered (4 KB) to keep logging off the hot path; a quiet service still gets them on disk within 1 s.
  setInterval(flush, 1_000).unref();
  return { logger, flush };
}
