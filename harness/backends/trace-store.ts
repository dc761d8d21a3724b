import type { AttributeValue, Span, SpanKind, Trace } from "../../assertions/trace-model";

/**
 * Where traces are read from. Jaeger is the one store today; a second store (Tempo, a file exporter) only has to
 * answer these two questions.
 */
export interface TraceStore {
  /** The trace with this id (32 hex digits), or undefined when the store has no span of it (yet). */
  getTrace(traceId: string): Promise<Trace | undefined>;
  /** Recent traces that have a span of this service. */
  findTraces(query: { service: string; limit?: number; lookbackMs?: number }): Promise<Trace[]>;
}

/** A span as Jaeger's query API (/api/traces) answers it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: { key: string; value: AttributeValue }[];
  /** Span events (OpenTelemetry) or logs (OpenTracing), each a list of fields. */
  logs?: { timestamp: number; fields: { key: string; value: AttributeValue }[] }[];
  processID: string;
}

/** A trace as Jaeger's query API (/api/traces) answers it. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const KINDS = new Set<string>(["server", "client", "internal", "producer", "consumer"]);

/** Reads Jaeger's query HTTP API (/api/traces, /api/services). */
export class JaegerTraceStore implements TraceStore {
  constructor(readonly queryUrl: string) {}

  async getTrace(traceId: string): Promise<Trace | undefined> {
    const response = await fetch(`${this.queryUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    const traces = await this.data<JaegerTrace[]>(response, `trace ${traceId}`);
    return traces[0] && normaliseJaegerTrace(traces[0]);
  }

  async findTraces(query: { service: string; limit?: number; lookbackMs?: number }): Promise<Trace[]> {
    const params = new URLSearchParams({
      service: query.service,
      limit: String(query.limit ?? 100),
      lookback: `${Math.ceil((query.lookbackMs ?? 3_600_000) / 1000)}s`,
    });
    const response = await fetch(`${this.queryUrl}/api/traces?${params}`, { signal: AbortSignal.timeout(10_000) });
    return (await this.data<JaegerTrace[]>(response, `traces of ${query.service}`)).map(normaliseJaegerTrace);
  }

  private async data<T>(response: Response, what: string): Promise<T> {
    const body = (await response.json()) as { data: T; errors?: { msg: string }[] | null };
    if (!response.ok)
      throw new Error(`Jaeger query for ${what} answered ${response.status}: ${JSON.stringify(body.errors)}`);
    return body.data;
  }
}

/** A Jaeger trace in the model every assertion reads (attributes from tags, kind and status from their tags). */
export function normaliseJaegerTrace(trace: JaegerTrace): Trace {
  return {
    traceId: trace.traceID,
    spans: trace.spans.map((span): Span => {
      const attributes: Record<string, AttributeValue> = {};
      for (const tag of span.tags ?? []) attributes[tag.key] = tag.value;
      const kind = String(attributes["span.kind"] ?? "internal");
      const status = String(attributes["otel.status_code"] ?? "").toLowerCase();
      const parent = span.references?.find((r) => r.refType === "CHILD_OF" && r.traceID === span.traceID);
      return {
        traceId: span.traceID,
        spanId: span.spanID,
        parentSpanId: parent?.spanID,
        service: trace.processes[span.processID]?.serviceName ?? "unknown",
        name: span.operationName,
        kind: (KINDS.has(kind) ? kind : "internal") as SpanKind,
        startTimeUs: span.startTime,
        durationUs: span.duration,
        status: status === "error" || attributes.error === true ? "error" : status === "ok" ? "ok" : "unset",
        attributes,
      };
    }),
  };
}
