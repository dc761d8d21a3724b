import type { SpanClass } from "./expectations";
import type { Span, Trace } from "./trace-model";

/** A trace with its parent links resolved once, shared by every trace check. */
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

/** "http", "grpc", or the db system ("redis") a span speaks, from its attributes; undefined when none says. */
export function protocolOf(span: Span): string | undefined {
  const a = span.attributes;
  if (a["rpc.system"] !== undefined || span.name.startsWith("grpc.")) return "grpc";
  const db = a["db.system"] ?? a["db.system.name"];
  if (db !== undefined) return String(db);
  if (a["http.request.method"] !== undefined || a["http.method"] !== undefined) return "http";
  return undefined;
}

/** The semantic-convention class of a server or client span. */
export function spanClassOf(span: Span): SpanClass | undefined {
  if (span.kind !== "server" && span.kind !== "client") return undefined;
  const protocol = protocolOf(span);
  if (protocol === "http" || protocol === "grpc") return `${protocol}.${span.kind}`;
  if (protocol !== undefined && span.kind === "client") return "db.client";
  return undefined;
}

/** The server spans directly under a client span. */
export function serverChildren(index: IndexedTrace, span: Span): Span[] {
  return (index.children.get(span.spanId) ?? []).filter((c) => c.kind === "server");
}

/** Who a client span called: its server child's service, else the db system, else what its attributes name. */
export function peerOf(index: IndexedTrace, span: Span): string {
  const server = serverChildren(index, span)[0];
  if (server) return server.service;
  const protocol = protocolOf(span);
  if (protocol !== undefined && protocol !== "http" && protocol !== "grpc") return protocol;
  const a = span.attributes;
  const named = a["peer.service"] ?? a["server.address"];
  return named === undefined ? "?" : `?${String(named)}${a["server.port"] === undefined ? "" : `:${a["server.port"]}`}`;
}

/** Hop key used to compare observed and expected graphs. */
export function hopKey(from: string, to: string, protocol: string): string {
  return `${from}->${to} (${protocol})`;
}

/**
 * The hops a trace shows: every client span (caller -> peer), and every server span whose parent belongs to another
 * service (so a hop stays visible when one side lacks its span).
 */
export function observedHops(index: IndexedTrace): Set<string> {
  const hops = new Set<string>();
  for (const span of index.trace.spans) {
    if (span.kind === "client") hops.add(hopKey(span.service, peerOf(index, span), protocolOf(span) ?? "?"));
    else if (span.kind === "server" && span.parentSpanId !== undefined) {
      const parent = index.byId.get(span.parentSpanId);
      if (parent && parent.service !== span.service)
        hops.add(hopKey(parent.service, span.service, protocolOf(parent) ?? protocolOf(span) ?? "?"));
    }
  }
  return hops;
}
