import type { Evidence, RequestRecord } from "../../assertions/evidence";
import { suspectKey, type RcaContext, type RcaWindow, type Suspect } from "../../assertions/rca";
import { indexTrace } from "../../assertions/trace-index";
import type { Span, Trace } from "../../assertions/trace-model";

/**
 * One span row of a waterfall: [depth, service, name, kind, startUs (from the trace start), durationUs, error, code,
 * highlighted, attributes]. Attributes are the span's own text (telemetry, shown as text only), values cut short.
 */
export type WaterfallRow = [number, string, string, string, number, number, 0 | 1, string, 0 | 1, [string, string][]];

/** What a waterfall row keeps of a span's attributes: enough to read a call's target and outcome, bounded in size. */
const MAX_ATTRIBUTES = 24;
const MAX_VALUE_CHARS = 240;

function shownAttributes(span: Span): [string, string][] {
  return Object.entries(span.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, MAX_ATTRIBUTES)
    .map(([k, v]) => {
      return [k, cut(typeof v === "string" ? v : JSON.stringify(v), MAX_VALUE_CHARS)];
    });
}

/** `text` at most `max` characters long, an ellipsis marking a cut. */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A trace laid out for the page's waterfall. */
export interface WaterfallTrace {
  traceId: string;
  totalUs: number;
  rows: WaterfallRow[];
  /** The trace's log lines ([service, the line as JSON]), by each service's contract log keys; text only. */
  logs: [string, string][];
}

const MAX_LOG_LINES = 20;
const MAX_LOG_CHARS = 400;

/** Log lines by trace id, of the services whose contract names their log keys. */
export function logsByTrace(evidence: Evidence): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  for (const service of evidence.services) {
    const key = service.contract.logs?.traceId;
    if (!key) continue;
    for (const line of evidence.logs[service.name] ?? []) {
      const traceId = line[key];
      if (typeof traceId !== "string") continue;
      const list = out.get(traceId) ?? [];
      if (list.length < MAX_LOG_LINES) list.push([service.name, cut(JSON.stringify(line), MAX_LOG_CHARS)]);
      out.set(traceId, list);
    }
  }
  return out;
}

/** A request the page lists (a failed assertion's evidence, an RCA exemplar). */
export interface RequestRow {
  id: string;
  traceId: string;
  route: string;
  status: number;
  /** Since the scenario's load start. */
  startS: number;
  latencyMs: number;
  error?: string;
}

/** A request record as the page lists it; `rel` turns epoch ms into seconds since the load start. */
export function requestRow(r: RequestRecord, rel: (ms: number) => number): RequestRow {
  return {
    id: r.id,
    traceId: r.traceId,
    route: r.route,
    status: r.status,
    startS: rel(r.startMs),
    latencyMs: r.endMs - r.startMs,
    ...(r.error ? { error: r.error } : {}),
  };
}

/** A failed request of an error window, or the slowest request of a p99 window, that has a trace. */
export function exemplarRequest(evidence: Evidence, w: RcaWindow): RequestRecord | undefined {
  const inWindow = evidence.requests.filter(
    (r) => r.route === w.route && r.startMs >= w.startMs && r.startMs < w.endMs && evidence.traces[r.traceId],
  );
  if (w.signals.includes("error-rate")) {
    const failedOne = inWindow.find((r) => r.status < 200 || r.status >= 400);
    if (failedOne) return failedOne;
  }
  return inWindow.sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))[0];
}

/** A trace as waterfall rows: depth-first from its roots, siblings by start time; spans of the suspect highlighted. */
export function waterfall(
  trace: Trace,
  request: RequestRecord | undefined,
  namer: RcaContext,
  highlight?: Suspect,
  logs: [string, string][] = [],
): WaterfallTrace {
  const index = indexTrace(trace, request?.parentSpanId, namer.edge?.name);
  const reader = namer.reader;
  const start = Math.min(...trace.spans.map((s) => s.startTimeUs));
  const end = Math.max(...trace.spans.map((s) => s.startTimeUs + s.durationUs));
  const rows: WaterfallRow[] = [];
  const wanted = highlight && suspectKey(highlight);
  const marked = (s: Span): boolean => wanted !== undefined && suspectKey(namer.identify(s, index)) === wanted;
  const visit = (s: Span, depth: number) => {
    rows.push([
      depth,
      s.service,
      s.name,
      s.kind,
      s.startTimeUs - start,
      s.durationUs,
      s.status === "error" ? 1 : 0,
      reader.code(s) ?? "",
      marked(s) ? 1 : 0,
      shownAttributes(s),
    ]);
    const children = [...(index.children.get(s.spanId) ?? [])].sort((a, b) => a.startTimeUs - b.startTimeUs);
    for (const c of children) visit(c, depth + 1);
  };
  for (const root of [...index.roots, ...index.orphans].sort((a, b) => a.startTimeUs - b.startTimeUs)) visit(root, 0);
  return { traceId: trace.traceId, totalUs: Math.max(1, end - start), rows, logs };
}
