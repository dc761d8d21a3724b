import { faultDescriptor } from "../faults";
import { faultEffect } from "../faults";
import type { Evidence, FaultRecord } from "../evidence";
import { randomHitChance, ruleBasedRanking } from "./baselines";
import { faultLocation } from "../trace-shape";
import { suspectKey } from "./context";
import type { RcaResult, RcaWindow, RuntimeWindow, Suspect } from "./model";
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
  /** The scenario's evidence, for the rule-based baseline (absent: that baseline is not scored). */
  evidence?: Evidence;
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

/**
 * AC@k over a set of scenarios: the share (0..1) of faults whose target service is among the top k services ranked
 * (RCAEval's measures); Avg@5 the mean of AC@1..AC@5. A fault whose target is not ranked at all (no window, or not
 * among the suspects) counts as a miss at every k.
 */
export interface RcaScore {
  faults: number;
  ac1: number | null;
  ac3: number | null;
  avg5: number | null;
  byKind: Record<string, { faults: number; ac1: number; ac3: number; avg5: number }>;
  /**
   * The same measures of two simple localisers on the same faults: rule-based (the service whose own error rate or
   * p99 changed most, from its server spans) and random (expected: k of the n candidate services). Absent in verdicts
   * written before they were scored; rule-based absent without evidence.
   */
  baselines?: { ruleBased?: BaselineScore; random: BaselineScore };
  misses: RcaMiss[];
  /** Windows that overlap no journaled fault (false alarms): a route's, or a service's runtime (`service`). */
  unexplainedWindows: { scenario: string; route?: string; service?: string; startMs: number; endMs: number }[];
}

/** A baseline's measures, overall and per fault kind. */
export interface BaselineScore {
  ac1: number | null;
  ac3: number | null;
  avg5: number | null;
  byKind: Record<string, { ac1: number; ac3: number; avg5: number }>;
}

type KindMeasures = Record<string, { faults: number; ac1: number; ac3: number; avg5: number }>;

/** Hits within k = 1..5 (expected hits for random), overall and per fault kind. */
class Tally {
  private readonly kinds = new Map<string, { faults: number; hits: number[] }>();
  private readonly all = { faults: 0, hits: [0, 0, 0, 0, 0] };

  /** One fault, by the chance (0 or 1 for a ranking, a probability for random) that its target is within k. */
  add(kind: string, within: (k: number) => number): void {
    const k = this.kinds.get(kind) ?? { faults: 0, hits: [0, 0, 0, 0, 0] };
    this.kinds.set(kind, k);
    for (const t of [this.all, k]) {
      t.faults++;
      for (let at = 1; at <= 5; at++) t.hits[at - 1]! += within(at);
    }
  }

  /** A ranking's target rank as `within`: null (not ranked) is a miss at every k. */
  static rank(rank: number | null): (k: number) => number {
    return (k) => (rank !== null && rank <= k ? 1 : 0);
  }

  get faults(): number {
    return this.all.faults;
  }

  score(): Omit<BaselineScore, "byKind"> & { byKind: KindMeasures } {
    const measures = (t: { faults: number; hits: number[] }) => ({
      ac1: round(t.hits[0]! / t.faults, 4),
      ac3: round(t.hits[2]! / t.faults, 4),
      avg5: round(t.hits.reduce((a, h) => a + h, 0) / 5 / t.faults, 4),
    });
    const byKind: KindMeasures = {};
    for (const [kind, k] of [...this.kinds].sort(([a], [b]) => a.localeCompare(b)))
      byKind[kind] = { faults: k.faults, ...measures(k) };
    return { ...(this.all.faults === 0 ? { ac1: null, ac3: null, avg5: null } : measures(this.all)), byKind };
  }

  baseline(): BaselineScore {
    const { byKind, ...overall } = this.score();
    return {
      ...overall,
      byKind: Object.fromEntries(
        Object.entries(byKind).map(([kind, m]) => [kind, { ac1: m.ac1, ac3: m.ac3, avg5: m.avg5 }]),
      ),
    };
  }
}

/** When a fault acts: from its application to its revert (or the load's end) and its effect's grace after. */
function faultSpan(fault: FaultRecord, windowEndMs: number): { startMs: number; endMs: number } {
  return {
    startMs: fault.appliedAtMs,
    endMs: (fault.revertedAtMs ?? windowEndMs) + (faultEffect(fault)?.graceMs ?? 0),
  };
}

/**
 * The services the windows a fault overlaps point at, best first: per service its best route suspect and its runtime
 * window's suspect, combined as two independent pieces of evidence (1 - (1 - a)(1 - b)), so a route window and a
 * runtime window on the same service merge into one, stronger, entry.
 */
export function faultRanking(
  fault: FaultRecord,
  result: Pick<RcaResult, "windows" | "runtimeWindows">,
  windowEndMs: number,
): { windows: RcaWindow[]; runtimeWindows: RuntimeWindow[]; ranking: Suspect[] } {
  const span = faultSpan(fault, windowEndMs);
  const overlaps = (w: { startMs: number; endMs: number }) => w.startMs < span.endMs && w.endMs > span.startMs;
  const windows = result.windows.filter(overlaps);
  const runtimeWindows = (result.runtimeWindows ?? []).filter(overlaps);
  const best = (suspects: Suspect[]) => {
    const byService = new Map<string, Suspect>();
    for (const s of suspects)
      if (!byService.has(s.service) || byService.get(s.service)!.score < s.score) byService.set(s.service, s);
    return byService;
  };
  const route = best(windows.flatMap((w) => w.suspects));
  const runtime = best(runtimeWindows.flatMap((w) => w.suspects));
  const ranking = [...new Set([...route.keys(), ...runtime.keys()])].map((service): Suspect => {
    const [r, t] = [route.get(service), runtime.get(service)];
    if (!r || !t) return (r ?? t)!;
    return { ...r, score: round(1 - (1 - r.score) * (1 - t.score), 3) };
  });
  ranking.sort((a, b) => b.score - a.score || suspectKey(a).localeCompare(suspectKey(b)));
  return { windows, runtimeWindows, ranking };
}

export function describeSuspect(s: Suspect): string {
  return `${s.service} ${s.operation}${s.via ? ` [${s.via}]` : ""} ${s.score.toFixed(2)}`;
}

/** Scores localisation against the fault journals of a set of scenarios (the whole catalog). */
export function scoreLocalization(runs: readonly ScoredRun[]): RcaScore {
  const misses: RcaMiss[] = [];
  const [meshproof, ruleBased, random] = [new Tally(), new Tally(), new Tally()];
  const unexplained: RcaScore["unexplainedWindows"] = [];
  for (const run of runs) {
    const explained = new Set<object>();
    for (const fault of run.faults) {
      const expected = faultTargetService(fault, run.services);
      const { windows, runtimeWindows, ranking: merged } = faultRanking(fault, run.result, run.windowEndMs);
      for (const w of [...windows, ...runtimeWindows]) explained.add(w);
      // An overload has no place to find: it explains its windows and is not scored.
      if (faultDescriptor(fault.kind)?.site === "edge") continue;
      // Another fault acting at the same time is a true cause too: its target, ranked above, is no error.
      const span = faultSpan(fault, run.windowEndMs);
      const concurrent = new Set(
        run.faults
          .filter((f) => f !== fault)
          .filter((f) => {
            const other = faultSpan(f, run.windowEndMs);
            return other.startMs < span.endMs && other.endMs > span.startMs;
          })
          .map((f) => faultTargetService(f, run.services))
          .filter((service) => service !== expected),
      );
      const ranking = merged.filter((s) => !concurrent.has(s.service));
      const index = ranking.findIndex((s) => s.service === expected);
      const rank = index < 0 ? null : index + 1;
      meshproof.add(fault.kind, Tally.rank(rank));
      random.add(fault.kind, (k) => randomHitChance(k, run.services.length - concurrent.size));
      if (run.evidence) {
        const rules = ruleBasedRanking(run.evidence, span).filter((s) => !concurrent.has(s));
        const at = rules.indexOf(expected);
        ruleBased.add(fault.kind, Tally.rank(at < 0 ? null : at + 1));
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
            windows.length + runtimeWindows.length === 0
              ? "no window of any route and no runtime window overlaps the fault: its effect was not detected"
              : ranking.length === 0
                ? `${windows.length + runtimeWindows.length} window(s) overlap the fault but no suspect scored above the threshold`
                : `ranked ${rank ?? "nowhere"} among ${ranking.length} suspect(s); first: ${describeSuspect(ranking[0]!)}`,
        });
    }
    for (const w of run.result.windows)
      if (!explained.has(w))
        unexplained.push({ scenario: run.scenario, route: w.route, startMs: w.startMs, endMs: w.endMs });
    for (const w of run.result.runtimeWindows ?? [])
      if (!explained.has(w))
        unexplained.push({ scenario: run.scenario, service: w.service, startMs: w.startMs, endMs: w.endMs });
  }
  return {
    faults: meshproof.faults,
    ...meshproof.score(),
    baselines: {
      ...(ruleBased.faults > 0 ? { ruleBased: ruleBased.baseline() } : {}),
      random: random.baseline(),
    },
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
    `RCA: AC@1 ${of(score.ac1)} (${pct(score.ac1)}), AC@3 ${of(score.ac3)} (${pct(score.ac3)}), Avg@5 ${pct(score.avg5)}; at 1 by kind: ${kinds}` +
    `; ${score.misses.length} miss(es), ${score.unexplainedWindows.length} window(s) without a fault` +
    (score.baselines
      ? `; baselines AC@1: ${score.baselines.ruleBased ? `rule-based ${pct(score.baselines.ruleBased.ac1)}, ` : ""}random ${pct(score.baselines.random.ac1)}`
      : "")
  );
}
