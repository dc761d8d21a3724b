import type { HopProtocol } from "../../../assertions/expectations";
import type { Span } from "../../../assertions/trace-model";
import type { SampledTrace } from "./sampled-traces";
import { attr, calledAddress, datastoreName, operationOf, serviceName, spanProtocol } from "./span-facts";

/** One call a request made, read off a client span: a hop of its route. */
export interface Call {
  from: string;
  to: string;
  protocol: HopProtocol;
  method?: string;
  /** The tracer that reported the call when it is not the calling process (an in-process datastore client). */
  reportedBy?: string;
  /** host:port the caller called, when its span says. */
  address?: string;
  /** No server span answers it: a datastore, or a service that reports no traces. */
  uninstrumented: boolean;
  error: boolean;
  span: Span;
}

/** What reading calls needs to know about the mesh, and what it could not place. */
export interface CallContext {
  /** Services that serve calls (have server spans): the others are tracers inside one of them. */
  processes: ReadonlySet<string>;
  /** The callee and operation of each client span kind seen answered, for the same calls seen failing. */
  callees: ReadonlyMap<string, { to: string; method?: string }>;
  /** Client spans whose protocol nothing told, as `service "name"`. */
  unknown: Set<string>;
}

/** The callee of each kind of client span (service, name, address) in the traces where a server span answered it. */
export function answeredCallees(traces: readonly SampledTrace[]): Map<string, { to: string; method?: string }> {
  const callees = new Map<string, { to: string; method?: string }>();
  for (const t of traces)
    for (const span of t.trace.spans) {
      if (span.kind !== "client") continue;
      const server = serverChild(t, span);
      const protocol = spanProtocol(span);
      if (!server || !protocol) continue;
      const method = operationOf(server, protocol);
      callees.set(calleeKey(span), { to: server.service, ...(method ? { method } : {}) });
    }
  return callees;
}

/** Every call below a span, in call order (depth first, children by start time); owner is the span's process. */
export function callsBelow(t: SampledTrace, span: Span, owner: string, context: CallContext, out: Call[] = []): Call[] {
  for (const child of t.children.get(span.spanId) ?? []) {
    const process = context.processes.has(child.service) ? child.service : owner;
    if (child.kind === "client") {
      const call = callOf(t, child, process, context);
      if (call) out.push(call);
    }
    callsBelow(t, child, child.kind === "server" ? child.service : process, context, out);
  }
  return out;
}

function callOf(t: SampledTrace, span: Span, owner: string, context: CallContext): Call | undefined {
  const protocol = spanProtocol(span);
  if (!protocol) {
    context.unknown.add(`${span.service} "${span.name}"`);
    return undefined;
  }
  const reportedBy = context.processes.has(span.service) ? undefined : span.service;
  const address = calledAddress(span);
  const common = {
    from: reportedBy ? owner : span.service,
    protocol,
    ...(reportedBy ? { reportedBy } : {}),
    ...(address ? { address } : {}),
    error: span.status === "error",
    span,
  };
  const server = serverChild(t, span);
  if (server) {
    const method = operationOf(server, protocol);
    return { ...common, to: server.service, ...(method ? { method } : {}), uninstrumented: false };
  }
  if (protocol === "http" || protocol === "grpc") {
    const known = context.callees.get(calleeKey(span));
    if (known) return { ...common, ...known, uninstrumented: false };
    const peer = attr(span, "peer.service") ?? address?.split(":")[0] ?? "unknown";
    const method = protocol === "grpc" ? operationOf(span, protocol) : undefined;
    return { ...common, to: serviceName(peer), ...(method ? { method } : {}), uninstrumented: true };
  }
  return { ...common, to: datastoreName(span, protocol), uninstrumented: true };
}

function serverChild(t: SampledTrace, span: Span): Span | undefined {
  return (t.children.get(span.spanId) ?? []).find((c) => c.kind === "server");
}

function calleeKey(span: Span): string {
  return JSON.stringify([span.service, span.name, calledAddress(span) ?? ""]);
}
