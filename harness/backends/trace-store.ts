import type { AttributeValue, Span, SpanKind, Trace } from "../../assertions/trace-model";

/** Where traces are read from: Jaeger's query API or Zipkin's v2 API, each answering these two questions. */
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

/** A span as Zipkin's v2 API (/api/v2/trace/{id}) answers it: tags are strings, times in microseconds. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: "CLIENT" | "SERVER" | "PRODUCER" | "CONSUMER";
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** Reads Zipkin's v2 HTTP API (/api/v2/trace/{id}, /api/v2/traces). */
export class ZipkinTraceStore implements TraceStore {
  constructor(readonly url: string) {}

  async getTrace(traceId: string): Promise<Trace | undefined> {
    const response = await fetch(`${this.url}/api/v2/trace/${traceId}`, { signal: AbortSignal.timeout(10_000) });
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    const spans = await this.data<ZipkinSpan[]>(response, `trace ${traceId}`);
    return spans.length ? normaliseZipkinTrace(spans) : undefined;
  }

  async findTraces(query: { service: string; limit?: number; lookbackMs?: number }): Promise<Trace[]> {
    const params = new URLSearchParams({
      serviceName: query.service,
      limit: String(query.limit ?? 100),
      lookback: String(query.lookbackMs ?? 3_600_000),
    });
    const response = await fetch(`${this.url}/api/v2/traces?${params}`, { signal: AbortSignal.timeout(10_000) });
    return (await this.data<ZipkinSpan[][]>(response, `traces of ${query.service}`)).map(normaliseZipkinTrace);
  }

  private async data<T>(response: Response, what: string): Promise<T> {
    const text = await response.text();
    if (!response.ok) throw new Error(`Zipkin query for ${what} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}

/**
 * Attributes the OpenTelemetry semantic conventions type as integers. Zipkin keeps every tag as a string (the
 * OpenTelemetry Zipkin exporter writes String(value)); these are read back as numbers, as OTLP carries them, so a
 * gRPC status code 14 is UNAVAILABLE on either store. Every other tag stays a string.
 */
const INTEGER_ATTRIBUTES = new Set([
  "http.response.status_code",
  "http.status_code",
  "rpc.grpc.status_code",
  "server.port",
  "client.port",
  "network.peer.port",
  "net.peer.port",
  "net.host.port",
  "db.redis.database_index",
]);

/** A Zipkin trace in the model every assertion reads (kind from `kind`, status from `otel.status_code` or `error`). */
export function normaliseZipkinTrace(spans: readonly ZipkinSpan[]): Trace {
  return {
    traceId: spans[0]?.traceId ?? "",
    spans: spans.map((span): Span => {
      const attributes: Record<string, AttributeValue> = {};
      for (const [key, value] of Object.entries(span.tags ?? {}))
        attributes[key] = INTEGER_ATTRIBUTES.has(key) && /^-?\d+$/.test(value) ? Number(value) : value;
      const status = String(attributes["otel.status_code"] ?? "").toLowerCase();
      return {
        traceId: span.traceId,
        spanId: span.id,
        parentSpanId: span.parentId,
        service: span.localEndpoint?.serviceName ?? "unknown",
        name: span.name ?? "",
        kind: (span.kind?.toLowerCase() ?? "internal") as SpanKind,
        startTimeUs: span.timestamp ?? 0,
        durationUs: span.duration ?? 0,
        status: status === "error" || attributes.error !== undefined ? "error" : status === "ok" ? "ok" : "unset",
        attributes,
      };
    }),
  };
}
