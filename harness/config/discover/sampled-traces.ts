import type { Span, Trace } from "../../../assertions/trace-model";
import { normaliseJaegerTrace, type JaegerSpan, type JaegerTrace } from "../../backends/trace-store";

/** A sampled trace with its parent links resolved, children in start order, and the raw spans (for their events). */
export interface SampledTrace {
  trace: Trace;
  children: Map<string, Span[]>;
  /** Spans without a parent, or whose parent is not in the trace (a caller outside the mesh sent a traceparent). */
  roots: Span[];
  raw: Map<string, JaegerSpan>;
}

export function sampledTraces(answers: readonly JaegerTrace[]): SampledTrace[] {
  return answers.map((raw) => {
    const trace = normaliseJaegerTrace(raw);
    const ids = new Set(trace.spans.map((s) => s.spanId));
    const children = new Map<string, Span[]>();
    const roots: Span[] = [];
    for (const span of trace.spans) {
      if (span.parentSpanId === undefined || !ids.has(span.parentSpanId)) roots.push(span);
      else children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
    }
    for (const list of children.values()) list.sort((a, b) => a.startTimeUs - b.startTimeUs);
    return { trace, children, roots, raw: new Map(raw.spans.map((s) => [s.spanID, s])) };
  });
}

/** The server span at the root of a trace, if it has exactly one root and that is a server span. */
export function rootServer(sampled: SampledTrace): Span | undefined {
  const [root, ...others] = sampled.roots;
  return root && others.length === 0 && root.kind === "server" ? root : undefined;
}

/** Whether more than one service reported spans of the trace (a request that called another service). */
export function crossesServices(sampled: SampledTrace): boolean {
  return new Set(sampled.trace.spans.map((s) => s.service)).size > 1;
}

/**
 * The services that are processes of their own: they serve calls (server spans), where the others (HotROD's "mysql",
 * "redis-manual") are tracers inside another process that only report client spans.
 */
export function serverProcesses(
  operations: Record<string, { name: string; spanKind: string }[]>,
  traces: readonly SampledTrace[],
): Set<string> {
  const names = Object.entries(operations).filter(([, ops]) => ops.some((o) => o.spanKind === "server"));
  const seen = traces.flatMap((t) => t.trace.spans.filter((s) => s.kind === "server").map((s) => s.service));
  return new Set([...names.map(([service]) => service), ...seen]);
}
