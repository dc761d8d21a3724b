import type { RequestRecord } from "../evidence";
import type { IndexedTrace } from "../trace-index";
import type { Span } from "../trace-model";
import { suspectKey, type Identity, type RcaContext, type RedSeries } from "./context";
import { rankEndpoints, type EndpointMove } from "./endpoints";
import type { Suspect } from "./model";
import { round } from "./numbers";
import type { Tuning } from "./options";
import { runtimeOf } from "./runtime";
import { failed, latencyMs, type DetectedWindow } from "./windows";

const TRACE_WEIGHT = 0.7;
const METRIC_WEIGHT = 0.3;

/** Depth of every span of a trace (roots 0). */
function spanDepths(index: IndexedTrace): Map<Span, number> {
  const depths = new Map<Span, number>();
  const walk = (span: Span, d: number) => {
    depths.set(span, d);
    for (const child of index.children.get(span.spanId) ?? []) walk(child, d + 1);
  };
  for (const root of [...index.roots, ...index.orphans]) walk(root, 0);
  return depths;
}

/** Rounding of span start times (ms) makes sequential children look like they overlap by up to this. */
const START_ROUNDING_US = 1_000;

/** A span's own time: its duration less the time its children cover (sequential children add up). */
export function selfTimeUs(span: Span, children: readonly Span[]): number {
  const sorted = [...children].sort((a, b) => a.startTimeUs - b.startTimeUs);
  let covered = 0;
  let coveredEnd = -Infinity;
  for (const child of sorted) {
    const end = child.startTimeUs + child.durationUs;
    if (child.startTimeUs >= coveredEnd - START_ROUNDING_US) covered += child.durationUs;
    else covered += Math.max(0, end - coveredEnd);
    coveredEnd = Math.max(coveredEnd, end);
  }
  return Math.max(0, span.durationUs - Math.min(covered, span.durationUs));
}

/** What the traces say of one identity: its share of the window's failed requests or of its latency increase. */
interface TraceShare {
  identity: Identity;
  share: number;
  signal: "error" | "self-time";
  requests: number;
  deltaMs?: number;
}

/** A request of the window with its trace. */
interface TracedRequest {
  r: RequestRecord;
  index: IndexedTrace;
}

/**
 * The window's suspects, best first, with their runtime. Traces give each identity a share: of the failed requests
 * (the deepest ERROR spans: an error at a leaf is put on the leaf, not on the callers it travelled through) or of the
 * route's mean latency increase (self-time). Metrics give a rank (rankEndpoints).
 */
export function rankSuspects(
  ctx: RcaContext,
  detected: DetectedWindow,
  red: readonly RedSeries[],
  o: Tuning,
): Suspect[] {
  const window = detected.window;
  const traceShares = new Map<string, TraceShare>();
  const offer = (s: TraceShare) => {
    const key = suspectKey(s.identity);
    const known = traceShares.get(key);
    if (!known || s.share > known.share) traceShares.set(key, s);
  };
  const traced = detected.requests
    .map((r) => ({ r, index: ctx.trace(r) }))
    .filter((x): x is TracedRequest => x.index !== undefined);
  window.traced = traced.length;
  if (window.signals.includes("error-rate")) for (const s of errorShares(ctx, traced)) offer(s);
  if (window.signals.includes("p99")) for (const s of selfTimeShares(ctx, detected, traced.length)) offer(s);
  const metricRanks = rankEndpoints(ctx, window, red);
  const suspects = scoreSuspects(traceShares, metricRanks, red.length > 0, o.minScore);
  suspects.sort(compareSuspects);
  const kept = suspects.slice(0, o.maxSuspects);
  for (const s of kept) s.runtime = runtimeOf(ctx, s.service, window);
  return kept;
}

/** Each failed request's deepest ERROR spans share one failure between them. */
function errorShares(ctx: RcaContext, traced: readonly TracedRequest[]): TraceShare[] {
  const failures = traced.filter(({ r }) => failed(r));
  const credit = new Map<string, { identity: Identity; credit: number; requests: number }>();
  for (const { index } of failures) {
    const depths = spanDepths(index);
    const errors = index.trace.spans.filter((s) => s.status === "error");
    if (errors.length === 0) continue;
    const deepest = Math.max(...errors.map((s) => depths.get(s) ?? 0));
    const at = errors.filter((s) => (depths.get(s) ?? 0) === deepest);
    for (const span of at) {
      const identity = ctx.identify(span, index);
      const key = suspectKey(identity);
      const entry = credit.get(key) ?? { identity, credit: 0, requests: 0 };
      entry.credit += 1 / at.length;
      entry.requests++;
      credit.set(key, entry);
    }
  }
  return [...credit.values()].map(({ identity, credit: c, requests }) => ({
    identity,
    share: failures.length === 0 ? 0 : c / failures.length,
    signal: "error",
    requests,
  }));
}

/** Each identity's increase of mean self-time, as a share of the route's mean latency increase. */
function selfTimeShares(ctx: RcaContext, detected: DetectedWindow, traced: number): TraceShare[] {
  const during = meanSelfTimeMs(ctx, detected.requests);
  const before = meanSelfTimeMs(ctx, detected.steadyRequests);
  const mean = (rs: RequestRecord[]) => (rs.length === 0 ? 0 : rs.reduce((a, r) => a + latencyMs(r), 0) / rs.length);
  const routeDelta = mean(detected.requests) - mean(detected.steadyRequests);
  const deltas = [...during].map(([key, v]) => ({
    identity: v.identity,
    deltaMs: v.ms - (before.get(key)?.ms ?? 0),
  }));
  const positive = deltas.filter((d) => d.deltaMs > 0).reduce((a, d) => a + d.deltaMs, 0);
  const denominator = routeDelta > 0 ? routeDelta : positive;
  const shares: TraceShare[] = [];
  for (const d of deltas) {
    if (d.deltaMs <= 0 || denominator <= 0) continue;
    shares.push({
      identity: d.identity,
      share: Math.min(1, d.deltaMs / denominator),
      signal: "self-time",
      requests: traced,
      deltaMs: round(d.deltaMs, 1),
    });
  }
  return shares;
}

/** Mean self-time (ms) per identity over the traced requests among `requests`, keyed by suspectKey. */
function meanSelfTimeMs(ctx: RcaContext, requests: readonly RequestRecord[]) {
  const sums = new Map<string, { identity: Identity; us: number }>();
  let n = 0;
  for (const r of requests) {
    const index = ctx.trace(r);
    if (!index) continue;
    n++;
    for (const span of index.trace.spans) {
      const identity = ctx.identify(span, index);
      const key = suspectKey(identity);
      const entry = sums.get(key) ?? { identity, us: 0 };
      entry.us += selfTimeUs(span, index.children.get(span.spanId) ?? []);
      sums.set(key, entry);
    }
  }
  return new Map([...sums].map(([k, v]) => [k, { identity: v.identity, ms: n === 0 ? 0 : v.us / n / 1000 }]));
}

/** The trace share and metric rank of every identity either names, as a score; those under `minScore` left out. */
function scoreSuspects(
  traceShares: ReadonlyMap<string, TraceShare>,
  metricRanks: ReadonlyMap<string, EndpointMove>,
  hasMetrics: boolean,
  minScore: number,
): Suspect[] {
  const hasTraces = traceShares.size > 0;
  const keys = new Set([...traceShares.keys(), ...metricRanks.keys()]);
  const suspects: Suspect[] = [];
  for (const key of keys) {
    const t = traceShares.get(key);
    const m = metricRanks.get(key);
    const traceScore = t?.share ?? 0;
    const metricScore = m ? 1 / m.rank : 0;
    const score =
      hasTraces && hasMetrics
        ? TRACE_WEIGHT * traceScore + METRIC_WEIGHT * metricScore
        : hasTraces
          ? traceScore
          : metricScore;
    if (score < minScore) continue;
    const identity = (t ?? m)!.identity;
    suspects.push({
      ...identity,
      score: round(score, 3),
      ...(t
        ? {
            traces: {
              signal: t.signal,
              share: round(t.share, 3),
              requests: t.requests,
              ...(t.deltaMs !== undefined ? { selfTimeDeltaMs: t.deltaMs } : {}),
            },
          }
        : {}),
      ...(m ? { metrics: { rank: m.rank, movedAtMs: m.movedAtMs, signal: m.signal, endpoint: m.endpoint } } : {}),
      runtime: { missing: [] },
    });
  }
  return suspects;
}

/** Best score first; ties by trace share, then metric rank, then key (a stable order). */
function compareSuspects(a: Suspect, b: Suspect): number {
  return (
    b.score - a.score ||
    (b.traces?.share ?? 0) - (a.traces?.share ?? 0) ||
    (a.metrics?.rank ?? Infinity) - (b.metrics?.rank ?? Infinity) ||
    suspectKey(a).localeCompare(suspectKey(b))
  );
}
