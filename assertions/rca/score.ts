import { faultDescriptor } from "../faults";
import { faultEffect } from "../faults";
import type { FaultRecord } from "../evidence";
import { faultLocation } from "../trace-shape";
import { suspectKey } from "./context";
import type { RcaResult, RcaWindow, Suspect } from "./model";
import { round } from "./numbers";

/** Which service a fault's effect must be localised to (the AC@k target). */
export function faultTargetService(fault: Pick<FaultRecord, "kind" | "target">, meshServices: readonly string[]) {
  const at = faultLocation(fault);
  // A link is put on its callee, where calls stop arriving; a link into a backend without spans (Redis) on its
  // caller, the only side that can see it.
  if ("link" in at) return meshServices.includes(at.link.to) ? at.link.to : at.link.from;
  return at.service;
}

/** One scenario's localisation with the ground truth it is scored against. */
export interface ScoredRun {
  scenario: string;
  faults: readonly FaultRecord[];
  /** The mesh's services (a link into anything else is put on its caller). */
  services: readonly string[];
  /** Load end (a fault never reverted counts as active until then). */
  windowEndMs: number;
  result: RcaResult;
}

/** A fault whose target was not ranked first, with the ranking it got. */
export interface RcaMiss {
  scenario: string;
  faultId: string;
  kind: string;
  /** The fault's target as journaled. */
  target: string;
  /** The service AC@k looks for (faultTargetService). */
  expected: string;
  /** Where the expected service was ranked (1-based); null when not among the suspects. */
  rank: number | null;
  /** "service operation [via] score", best first. */
  ranking: string[];
  /** Why: no window overlapped the fault, or the windows' suspects put something else first. */
  reason: string;
}

/** AC@k over a set of scenarios: the share (0..1) of faults whose target service is among the top k suspects. */
export interface RcaScore {
  faults: number;
  ac1: number | null;
  ac3: number | null;
  byKind: Record<string, { faults: number; ac1: number; ac3: number }>;
  misses: RcaMiss[];
  /** Windows that overlap no journaled fault (false alarms). */
  unexplainedWindows: { scenario: string; route: string; startMs: number; endMs: number }[];
}

/** The suspects of the windows a fault overlaps, merged (best score per suspect), best first. */
export function faultRanking(
  fault: FaultRecord,
  windows: readonly RcaWindow[],
  windowEndMs: number,
): { windows: RcaWindow[]; ranking: Suspect[] } {
  const endMs = (fault.revertedAtMs ?? windowEndMs) + (faultEffect(fault)?.graceMs ?? 0);
  const overlapping = windows.filter((w) => w.startMs < endMs && w.endMs > fault.appliedAtMs);
  const best = new Map<string, Suspect>();
  for (const w of overlapping)
    for (const s of w.suspects) {
      const key = suspectKey(s);
      if (!best.has(key) || best.get(key)!.score < s.score) best.set(key, s);
    }
  return { windows: overlapping, ranking: [...best.values()].sort((a, b) => b.score - a.score) };
}

export function describeSuspect(s: Suspect): string {
  return `${s.service} ${s.operation}${s.via ? ` [${s.via}]` : ""} ${s.score.toFixed(2)}`;
}

/** Scores localisation against the fault journals of a set of scenarios (the whole catalog). */
export function scoreLocalization(runs: readonly ScoredRun[]): RcaScore {
  const byKind: RcaScore["byKind"] = {};
  const misses: RcaMiss[] = [];
  let faults = 0;
  let hit1 = 0;
  let hit3 = 0;
  const kinds = new Map<string, { faults: number; hit1: number; hit3: number }>();
  const unexplained: RcaScore["unexplainedWindows"] = [];
  for (const run of runs) {
    const explained = new Set<RcaWindow>();
    for (const fault of run.faults) {
      const expected = faultTargetService(fault, run.services);
      const { windows, ranking } = faultRanking(fault, run.result.windows, run.windowEndMs);
      for (const w of windows) explained.add(w);
      // An overload has no place to find: it explains its windows and is not scored.
      if (faultDescriptor(fault.kind)?.site === "edge") continue;
      const index = ranking.findIndex((s) => s.service === expected);
      const rank = index < 0 ? null : index + 1;
      const k = kinds.get(fault.kind) ?? { faults: 0, hit1: 0, hit3: 0 };
      kinds.set(fault.kind, k);
      faults++;
      k.faults++;
      if (rank === 1) {
        hit1++;
        k.hit1++;
      }
      if (rank !== null && rank <= 3) {
        hit3++;
        k.hit3++;
      }
      if (rank !== 1)
        misses.push({
          scenario: run.scenario,
          faultId: fault.id,
          kind: fault.kind,
          target: fault.target,
          expected,
          rank,
          ranking: ranking.slice(0, 5).map(describeSuspect),
          reason:
            windows.length === 0
              ? "no window of any route overlaps the fault: its effect was not detected in the request log"
              : ranking.length === 0
                ? `${windows.length} window(s) overlap the fault but no suspect scored above the threshold`
                : `ranked ${rank ?? "nowhere"} among ${ranking.length} suspect(s); first: ${describeSuspect(ranking[0]!)}`,
        });
    }
    for (const w of run.result.windows)
      if (!explained.has(w))
        unexplained.push({ scenario: run.scenario, route: w.route, startMs: w.startMs, endMs: w.endMs });
  }
  for (const [kind, k] of [...kinds].sort(([a], [b]) => a.localeCompare(b)))
    byKind[kind] = { faults: k.faults, ac1: round(k.hit1 / k.faults, 4), ac3: round(k.hit3 / k.faults, 4) };
  return {
    faults,
    ac1: faults === 0 ? null : round(hit1 / faults, 4),
    ac3: faults === 0 ? null : round(hit3 / faults, 4),
    byKind,
    misses,
    unexplainedWindows: unexplained,
  };
}

/** One line: "RCA: AC@1 3/3 (100%), AC@3 3/3 (100%); error 1/1, latency 1/1, link-down 1/1 at 1". */
export function rcaScoreLine(score: RcaScore): string {
  if (score.faults === 0)
    return `RCA: no fault in the journal to score against (${score.unexplainedWindows.length} window(s) without a fault)`;
  const pct = (v: number | null) => `${Math.round((v ?? 0) * 100)}%`;
  const of = (v: number | null) => `${Math.round((v ?? 0) * score.faults)}/${score.faults}`;
  const kinds = Object.entries(score.byKind)
    .map(([kind, k]) => `${kind} ${Math.round(k.ac1 * k.faults)}/${k.faults}`)
    .join(", ");
  return (
    `RCA: AC@1 ${of(score.ac1)} (${pct(score.ac1)}), AC@3 ${of(score.ac3)} (${pct(score.ac3)}); at 1 by kind: ${kinds}` +
    `; ${score.misses.length} miss(es), ${score.unexplainedWindows.length} window(s) without a fault`
  );
}
