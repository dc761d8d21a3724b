import type { Judgement } from "../../assertions/evaluate";
import type { Evidence } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import type { K6Extras } from "../load/k6-driver";
import type { MeshTarget } from "../mesh/target";
import type { Reporter } from "../report/reporter";
import type { ScenarioVerdict } from "../report/verdict";

/** What a scenario run needs besides the scenario. */
export interface RunContext {
  /** The mesh under test: started afresh per scenario, or an external one. */
  target: MeshTarget;
  seed: number;
  signal?: AbortSignal;
  /** Where the run's story goes: log lines, phases, load progress. */
  reporter: Pick<Reporter, "onLog" | "onPhase" | "onLoadProgress">;
  /** Judges evidence against the scenario's expectations, and measures what each fault did. */
  evaluate: (evidence: Evidence, expectations: Expectations) => Judgement;
  /** The mesh's capacity (requests/s) the scenario's load took shares of, when it did. */
  capacityPerSec?: number;
}

/** One scenario's outcome: its verdict, and what it was judged on (no evidence when it never ran its load). */
export interface ScenarioRun {
  verdict: ScenarioVerdict;
  /** The expectations it was judged by (the mesh's own topology where the mesh brings one). */
  expectations: Expectations;
  evidence?: Evidence;
  /** The k6 driver's verdict, thresholds and end-of-test summary, when k6 drove the load. */
  k6?: K6Extras;
  /** The services' log files (kept with the report when the scenario did not pass). */
  logFiles: string[];
}

/** A run that cannot be judged: the baseline did not hold before any fault, or the mesh did not start. */
export class AbortRun extends Error {}

export type { Scenario };
