import type { Evidence } from "../evidence";
import { percentile } from "./numbers";

/**
 * The simple localisers meshproof's is scored beside, as RCAEval scores methods against baselines. Each ranks the
 * mesh's services for one fault.
 */

/**
 * Rule-based: each service's largest relative change in its own error rate or p99, from its server spans in the
 * fault's span against the spans before it (the load's start to the fault), largest first. A service with no server
 * span before or during the fault is not ranked.
 */
export function ruleBasedRanking(evidence: Evidence, span: { startMs: number; endMs: number }): string[] {
  const before = new Map<string, { errors: number; durations: number[] }>();
  const during = new Map<string, { errors: number; durations: number[] }>();
  for (const trace of Object.values(evidence.traces))
    for (const s of trace?.spans ?? []) {
      if (s.kind !== "server") continue;
      const ms = s.startTimeUs / 1000;
      const into = ms >= span.startMs && ms < span.endMs ? during : ms < span.startMs ? before : undefined;
      if (!into) continue;
      const tally = into.get(s.service) ?? { errors: 0, durations: [] };
      if (s.status === "error") tally.errors++;
      tally.durations.push(s.durationUs);
      into.set(s.service, tally);
    }
  const changes: [string, number][] = [];
  for (const [service, w] of during) {
    const s = before.get(service);
    if (!s) continue;
    // Half an error added to the steady count, so a clean steady state still gives a finite ratio.
    const errorChange = w.errors / w.durations.length / ((s.errors + 0.5) / (s.durations.length + 1));
    const p99 = (d: number[]) =>
      percentile(
        [...d].sort((a, b) => a - b),
        0.99,
      );
    const latencyChange = p99(w.durations) / Math.max(1, p99(s.durations));
    changes.push([service, Math.max(errorChange, latencyChange)]);
  }
  return changes.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([service]) => service);
}

/** Random: a uniformly random ranking of n services puts the target within the first k with probability k/n. */
export function randomHitChance(k: number, candidates: number): number {
  return candidates === 0 ? 0 : Math.min(k, candidates) / candidates;
}
