import { DEFAULT_CONTRACT, type SpanContract, type TelemetryContract } from "./contract";
import type { SpanClass } from "./expectations";
import { GRPC_CODE_NAMES } from "./grpc-codes";
import type { Span, Trace } from "./trace-model";

export { GRPC_CODE_NAMES };

/** The status an HTTP client span or counter records when no response came (the driver records 0 too). */
export const NO_RESPONSE = "0";

/** A trace with its parent links resolved once, shared by every check. */
export interface IndexedTrace {
  trace: Trace;
  byId: Map<string, Span>;
  /** Children by parent span id. */
  children: Map<string, Span[]>;
  roots: Span[];
  /** Non-root spans whose parent is not in the trace. */
  orphans: Span[];
}

/**
 * Resolves parent links. A root is a span without a parent, or whose parent is the driver's traceparent span (never
 * exported). When the driver's parent id is unknown, the edge's server span with an absent parent is taken as root.
 */
export function indexTrace(trace: Trace, driverParentSpanId?: string, edgeService?: string): IndexedTrace {
  const byId = new Map<string, Span>();
  const children = new Map<string, Span[]>();
  for (const span of trace.spans) byId.set(span.spanId, span);
  const roots: Span[] = [];
  const orphans: Span[] = [];
  for (const span of trace.spans) {
    const parent = span.parentSpanId;
    if (parent === undefined || parent === driverParentSpanId) roots.push(span);
    else if (byId.has(parent)) {
      const siblings = children.get(parent);
      if (siblings) siblings.push(span);
      else children.set(parent, [span]);
    } else if (driverParentSpanId === undefined && span.kind === "server" && span.service === edgeService)
      roots.push(span);
    else orphans.push(span);
  }
  return { trace, byId, children, roots, orphans };
}

/** The server spans directly under a client span. */
export function serverChildren(index: IndexedTrace, span: Span): Span[] {
  return (index.children.get(span.spanId) ?? []).filter((c) => c.kind === "server");
}

/** Hop key used to compare observed and expected graphs. */
export function hopKey(from: string, to: string, protocol: string): string {
  return `${from}->${to} (${protocol})`;
}

/**
 * Reads spans through the contract of the service that emitted them: which protocol a span speaks, its status code
 * as counters label it, and the operation it belongs to. One reader per run; services without a contract of their
 * own are read with the Node kit's keys.
 */
export class SpanReader {
  constructor(private readonly contractOf: (service: string) => TelemetryContract | undefined = () => undefined) {}

  keys(span: Span): SpanContract {
    return (this.contractOf(span.service) ?? DEFAULT_CONTRACT).spans;
  }

  /** "http", "grpc", or the db system ("redis") a span speaks; undefined when its attributes say none. */
  protocol(span: Span): string | undefined {
    const k = this.keys(span);
    const a = span.attributes;
    if (a[k.rpcSystem] !== undefined) return "grpc";
    const db = (k.dbSystem ?? []).map((key) => a[key]).find((v) => v !== undefined);
    if (db !== undefined) return String(db);
    if (a[k.httpMethod] !== undefined) return "http";
    return undefined;
  }

  /** The semantic-convention class of a server or client span. */
  spanClass(span: Span): SpanClass | undefined {
    if (span.kind !== "server" && span.kind !== "client") return undefined;
    const protocol = this.protocol(span);
    if (protocol === "http" || protocol === "grpc") return `${protocol}.${span.kind}`;
    if (protocol !== undefined && span.kind === "client") return "db.client";
    return undefined;
  }

  /** Attribute requirements of a span class; each requirement is met by any one of its keys. */
  semconv(span: Span, spanClass: SpanClass): string[][] {
    const k = this.keys(span);
    switch (spanClass) {
      case "http.server":
        return [[k.httpMethod], [k.httpStatusCode], [k.urlPath, k.httpRoute]];
      case "http.client":
        // A client that got no response has no status code; error.type stands in.
        return [[k.httpMethod], [k.httpStatusCode, k.errorType]];
      case "grpc.server":
      case "grpc.client":
        return [[k.rpcSystem], ...(k.rpcService ? [[k.rpcService]] : []), [k.rpcMethod], [k.grpcStatusCode]];
      case "db.client":
        return [k.dbSystem ?? []];
    }
  }

  /**
   * The status a span records, as counters label it: the HTTP status ("502", "0" when a client got no response) or
   * the gRPC code name ("UNAVAILABLE"); undefined for spans that carry no code (db, internal).
   */
  code(span: Span): string | undefined {
    const k = this.keys(span);
    const protocol = this.protocol(span);
    if (protocol === "grpc") {
      const code = span.attributes[k.grpcStatusCode];
      if (code === undefined) return undefined;
      return typeof code === "number" ? (GRPC_CODE_NAMES[code] ?? String(code)) : String(code);
    }
    if (protocol === "http") {
      const status = span.attributes[k.httpStatusCode];
      return status === undefined ? (span.kind === "client" ? NO_RESPONSE : undefined) : String(status);
    }
    return undefined;
  }

  /** gRPC "pkg.Service/Method" of a span, or undefined. */
  rpcOperation(span: Span): string | undefined {
    const k = this.keys(span);
    const method = span.attributes[k.rpcMethod];
    if (method === undefined) return undefined;
    if (!k.rpcService) return String(method);
    const service = span.attributes[k.rpcService];
    return service === undefined ? undefined : `${String(service)}/${String(method)}`;
  }

  /** The bare gRPC method name of a span ("Charge"), whichever convention names it. */
  rpcMethodName(span: Span): string | undefined {
    const method = span.attributes[this.keys(span).rpcMethod];
    return method === undefined ? undefined : String(method).split("/").pop();
  }

  /** HTTP "METHOD /route" of a server span, or undefined. */
  httpRoute(span: Span): string | undefined {
    const k = this.keys(span);
    const method = span.attributes[k.httpMethod];
    const route = span.attributes[k.httpRoute];
    return method === undefined || route === undefined ? undefined : `${String(method)} ${String(route)}`;
  }

  /** The request id a span carries; undefined when it carries none or its contract names no such attribute. */
  requestId(span: Span): string | undefined {
    const key = this.keys(span).requestId;
    const value = key === undefined ? undefined : span.attributes[key];
    return value === undefined ? undefined : String(value);
  }

  /** Whether the contract of a span's service promises a request-id attribute. */
  promisesRequestId(span: Span): boolean {
    return this.keys(span).requestId !== undefined;
  }
}
