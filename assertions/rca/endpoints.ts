import { suspectKey, type Identity, type RcaContext, type RedSeries } from "./context";
import type { RcaWindow } from "./model";
import { binomialTail } from "./numbers";

/** Significance of one metric step's errors against its steady rate. */
const METRIC_STEP_ALPHA = 0.01;

export interface EndpointMove {
  identity: Identity;
  rank: number;
  movedAtMs: number;
  signal: "error-rate" | "latency";
  endpoint: string;
}

/**
 * The endpoints whose error rate or mean latency moved in (or one step after) the window, against the steps of the
 * load before it; ranked by when they moved (same scrape interval = a tie), then deepest first: a fault surfaces at
 * its hop and travels toward the edge within one interval.
 */
export function rankEndpoints(
  ctx: RcaContext,
  window: RcaWindow,
  red: readonly RedSeries[],
): Map<string, EndpointMove> {
  const groups = new Map<string, { identity: Identity; depth: number; endpoint: string; series: RedSeries[] }>();
  for (const s of red) {
    const key = `${suspectKey(s.identity)}|${s.endpoint}`;
    const g = groups.get(key) ?? {
      identity: s.identity,
      depth: ctx.identityDepth(s.identity),
      endpoint: s.endpoint,
      series: [],
    };
    g.series.push(s);
    groups.set(key, g);
  }
  const loadStartSec = ctx.evidence.window.startMs / 1000;
  const moves: { identity: Identity; depth: number; endpoint: string; atMs: number; signal: EndpointMove["signal"] }[] =
    [];
  for (const g of groups.values()) {
    // Per step (the interval ending at t): requests, errors, seconds.
    const steps = new Map<number, { n: number; e: number; s: number }>();
    for (const rs of g.series) {
      const values = rs.series.values;
      for (let i = 1; i < values.length; i++) {
        const [t, v] = values[i]!;
        const inc = Math.max(0, v - values[i - 1]![1]);
        const step = steps.get(t) ?? { n: 0, e: 0, s: 0 };
        if (rs.part === "_count") {
          step.n += inc;
          if (rs.error) step.e += inc;
        } else step.s += inc;
        steps.set(t, step);
      }
    }
    const ordered = [...steps].sort(([a], [b]) => a - b);
    const stepSec = ordered.length > 1 ? ordered[1]![0] - ordered[0]![0] : 1;
    let n0 = 0;
    let e0 = 0;
    let s0 = 0;
    for (const [t, st] of ordered) {
      if (t - stepSec < loadStartSec || t * 1000 > window.startMs) continue;
      n0 += st.n;
      e0 += st.e;
      s0 += st.s;
    }
    const p0 = (e0 + 0.5) / (n0 + 1);
    const m0 = n0 > 0 ? s0 / n0 : undefined;
    for (const [t, st] of ordered) {
      if (t * 1000 <= window.startMs || (t - 2 * stepSec) * 1000 > window.endMs || st.n <= 0) continue;
      const errorUp =
        window.signals.includes("error-rate") &&
        st.e > 0 &&
        binomialTail(Math.round(st.e), Math.round(st.n), p0) < METRIC_STEP_ALPHA;
      const latencyUp = window.signals.includes("p99") && m0 !== undefined && st.s / st.n > Math.max(2 * m0, m0 + 0.05);
      if (!errorUp && !latencyUp) continue;
      moves.push({
        identity: g.identity,
        depth: g.depth,
        endpoint: g.endpoint,
        atMs: Math.round((t - stepSec) * 1000),
        signal: errorUp ? "error-rate" : "latency",
      });
      break;
    }
  }
  // Targets are scraped at different offsets within an interval: moves within one step of the first are a tie.
  const first = Math.min(...moves.map((m) => m.atMs));
  const values = red[0]?.series.values ?? [];
  const stepMs = values.length > 1 ? (values[1]![0] - values[0]![0]) * 1000 : 1000;
  const when = (m: { atMs: number }) => (m.atMs - first <= stepMs ? first : m.atMs);
  moves.sort((a, b) => when(a) - when(b) || b.depth - a.depth || a.endpoint.localeCompare(b.endpoint));
  const out = new Map<string, EndpointMove>();
  for (const m of moves) {
    const key = suspectKey(m.identity);
    if (!out.has(key))
      out.set(key, {
        identity: m.identity,
        rank: out.size + 1,
        movedAtMs: m.atMs,
        signal: m.signal,
        endpoint: m.endpoint,
      });
  }
  return out;
}
