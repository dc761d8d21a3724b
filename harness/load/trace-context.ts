/**
 * W3C trace context as the load drivers send and read it. No imports: the inline driver's worker thread loads this
 * and nothing heavier.
 */

/** How a request carries (or does not carry) the driver's trace context. */
export type ParentMode = "sampled" | "unsampled" | "none";

/** The W3C traceparent for a mode, or undefined for "none". */
export function traceparentHeader(parent: ParentMode, traceId: string, spanId: string): string | undefined {
  if (parent === "none") return undefined;
  return `00-${traceId}-${spanId}-${parent === "sampled" ? "01" : "00"}`;
}

/**
 * Reads a W3C `traceresponse` header (`00-<trace id>-<span id>-<flags>`): the trace the server recorded the request
 * under and whether it sampled it. Undefined when absent or malformed.
 */
export function parseTraceresponse(
  value: string | undefined,
): { responseTraceId: string; responseSampled: boolean } | undefined {
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec((value ?? "").trim().toLowerCase());
  if (!match || match[1] === "ff" || /^0+$/.test(match[2]!) || /^0+$/.test(match[3]!)) return undefined;
  return { responseTraceId: match[2]!, responseSampled: (parseInt(match[4]!, 16) & 1) === 1 };
}
