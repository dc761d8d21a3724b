import { localize, scoreLocalization, type RcaResult } from "../../assertions/rca";
import type { SavedScenario } from "./evidence-file";
import type { Verdict } from "./verdict";

/** One scenario's root-cause localisation, with the scenario's topology naming HTTP callees. */
export function localizeScenario(saved: SavedScenario): RcaResult {
  return localize(saved.evidence, { topology: saved.expectations.topology });
}

/**
 * The verdict with root-cause localisation: each scenario's windows and suspects (kept when the verdict already has
 * them, computed from the saved evidence otherwise) and the run's AC@k score against the fault journals.
 */
export function withRca(verdict: Verdict, saved: readonly SavedScenario[]): Verdict {
  const scenarios = verdict.scenarios.map((s) => {
    if (s.rca || s.status === "aborted") return s;
    const evidence = saved.find((e) => e.name === s.name);
    return evidence ? { ...s, rca: localizeScenario(evidence) } : s;
  });
  const runs = scenarios.flatMap((s) => {
    const evidence = saved.find((e) => e.name === s.name)?.evidence;
    if (!s.rca || !evidence) return [];
    return [
      {
        scenario: s.name,
        faults: evidence.faults,
        services: evidence.services.map((x) => x.name),
        windowEndMs: evidence.window.endMs,
        result: s.rca,
      },
    ];
  });
  return { ...verdict, scenarios, rca: scoreLocalization(runs) };
}
