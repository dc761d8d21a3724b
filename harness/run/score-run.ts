import { scoreLocalization, type RcaScore } from "../../assertions/rca";
import type { SavedScenario } from "../report/evidence-file";
import type { ScenarioVerdict } from "../report/verdict";

/**
 * Root-cause localisation of a run scored against its fault journals: each judged scenario's windows and suspects
 * (its verdict's `rca`) against the faults its evidence records.
 */
export function scoreRun(scenarios: readonly ScenarioVerdict[], saved: readonly SavedScenario[]): RcaScore {
  return scoreLocalization(
    scenarios.flatMap((s) => {
      const evidence = saved.find((e) => e.name === s.name)?.evidence;
      if (!s.rca || !evidence) return [];
      return [
        {
          scenario: s.name,
          faults: evidence.faults,
          services: evidence.services.map((x) => x.name),
          windowEndMs: evidence.window.endMs,
          result: s.rca,
          evidence,
        },
      ];
    }),
  );
}
