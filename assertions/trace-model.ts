/** The trace model every trace store normalises to and every trace assertion reads. */

export type SpanKind = "server" | "client" | "internal" | "producer" | "consumer";
export type AttributeValue = string | number | boolean;

export interface Span {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId?: string;
  /** service.name of the span's resource. */
  service: string;
  name: string;
  kind: SpanKind;
  startTimeUs: number;
  durationUs: number;
  /** OpenTelemetry span status. */
  status: "unset" | "ok" | "error";
  attributes: Record<string, AttributeValue>;
}

export interface Trace {
  traceId: string;
  spans: Span[];
}
