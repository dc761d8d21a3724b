import type { Evidence, RequestRecord } from "../evidence";
import { isSuccess } from "../trace-shape";
import type { RcaWindow, RouteStats } from "./model";
import { binomialTail, percentile, round } from "./numbers";
import type { Tuning } from "./options";

export interface DetectedWindow {
  window: RcaWindow;
  requests: RequestRecord[];
  steadyRequests: RequestRecord[];
}

export function latencyMs(r: RequestRecord): number {
  return r.endMs - r.startMs;
}

export function failed(r: RequestRecord): boolean {
  return !isSuccess(r.status);
}

function stats(requests: readonly RequestRecord[]): RouteStats {
  const latencies = requests.map(latencyMs).sort((a, b) => a - b);
  const errors = requests.filter(failed).length;
  return {
    requests: requests.length,
    errors,
    errorRate: requests.length === 0 ? 0 : round(errors / requests.length, 4),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** The steady error rate, never 0: half an error is added so one error after a clean steady state is judged. */
function steadyRate(steady: readonly RequestRecord[]): number {
  return (steady.filter(failed).length + 0.5) / (steady.length + 1);
}

function slowThreshold(steady: readonly RequestRecord[], o: Tuning): number {
  const p99 = percentile(
    steady.map(latencyMs).sort((a, b) => a - b),
    0.99,
  );
  return Math.max(o.latencyFactor * p99, p99 + o.latencyMarginMs);
}

/**
 * Per route, the request log in buckets, each judged against the route's steady state (the buckets before it that
 * were not out of line; the first `steadyMinMs` are steady state only): errors unlikely under the steady rate
 * (binomial tail), or `slowShare` of the requests slower than max(factor x steady p99, steady p99 + margin). Flagged
 * buckets at most one quiet bucket apart make a window, kept when its totals confirm the move.
 */
export function detectWindows(evidence: Evidence, o: Tuning): DetectedWindow[] {
  const t0 = evidence.window.startMs;
  const byRoute = new Map<string, RequestRecord[]>();
  for (const r of evidence.requests) {
    const list = byRoute.get(r.route);
    if (list) list.push(r);
    else byRoute.set(r.route, [r]);
  }
  const out: DetectedWindow[] = [];
  for (const [route, requests] of [...byRoute].sort(([a], [b]) => a.localeCompare(b))) {
    const buckets = new Map<number, RequestRecord[]>();
    for (const r of requests) {
      const i = Math.max(0, Math.floor((r.startMs - t0) / o.bucketMs));
      const list = buckets.get(i);
      if (list) list.push(r);
      else buckets.set(i, [r]);
    }
    const last = Math.max(...buckets.keys());
    // Steady state grows by every bucket that is not out of line; a flagged bucket remembers how much of it existed.
    const steady: RequestRecord[] = [];
    const flagged: { index: number; steadyCount: number }[] = [];
    for (let i = 0; i <= last; i++) {
      const bucket = buckets.get(i) ?? [];
      if (i * o.bucketMs < o.steadyMinMs || steady.length < o.steadyMinRequests) {
        steady.push(...bucket);
        continue;
      }
      if (bucket.length === 0) continue;
      const errors = bucket.filter(failed).length;
      const errorUp = errors > 0 && binomialTail(errors, bucket.length, steadyRate(steady)) < o.bucketAlpha;
      const threshold = slowThreshold(steady, o);
      const slow = bucket.filter((r) => latencyMs(r) > threshold).length;
      const latencyUp = slow >= Math.min(2, bucket.length) && slow / bucket.length >= o.slowShare;
      if (errorUp || latencyUp) flagged.push({ index: i, steadyCount: steady.length });
      // A bucket in line joins steady state without its slow requests: one request that straddled a fault's start
      // (or a warm-up) would otherwise set a small sample's p99 (its maximum) and hide the fault behind it.
      else steady.push(...bucket.filter((r) => latencyMs(r) <= threshold));
    }
    // Flagged buckets at most one quiet bucket apart make one candidate window.
    const runs: { first: number; last: number; steadyCount: number }[] = [];
    for (const f of flagged) {
      const run = runs.at(-1);
      if (run && f.index - run.last <= 2) run.last = f.index;
      else runs.push({ first: f.index, last: f.index, steadyCount: f.steadyCount });
    }
    for (const run of runs) {
      const inWindow: RequestRecord[] = [];
      for (let i = run.first; i <= run.last; i++) inWindow.push(...(buckets.get(i) ?? []));
      const before = steady.slice(0, run.steadyCount);
      const during = stats(inWindow);
      const threshold = slowThreshold(before, o);
      const slow = inWindow.filter((r) => latencyMs(r) > threshold).length;
      const signals: RcaWindow["signals"] = [];
      if (during.errors > 0 && binomialTail(during.errors, during.requests, steadyRate(before)) < o.windowAlpha)
        signals.push("error-rate");
      if (slow >= o.minSlowRequests && slow / inWindow.length >= o.slowShare) signals.push("p99");
      if (signals.length === 0) continue;
      out.push({
        window: {
          route,
          startMs: t0 + run.first * o.bucketMs,
          endMs: t0 + (run.last + 1) * o.bucketMs,
          signals,
          steady: stats(before),
          during: { ...during, slow, slowAboveMs: round(threshold, 1) },
          traced: 0,
          suspects: [],
        },
        requests: inWindow,
        steadyRequests: before,
      });
    }
  }
  return out.sort((a, b) => a.window.startMs - b.window.startMs || a.window.route.localeCompare(b.window.route));
}
