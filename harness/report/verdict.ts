import type { AssertionResult, FaultRecord } from "../../assertions/evidence";

/**
 * verdict.json, a public contract: add fields, never change or remove them without bumping `version`.
 * Version 2: assertions carry observed.compared; scenario status "not-applicable"; run.mesh.
 */
export interface Verdict {
  version: 2;
  run: {
    id: string;
    startedAt: string;
    durationMs: number;
    backend: string;
    tools: Record<string, string>;
    seed: number;
    /** The mesh judged: how it ran and which implementation each service had. */
    mesh: { description: string; impl: Record<string, string> };
  };
  scenarios: ScenarioVerdict[];
}

/**
 * passed / failed: judged; aborted: could not be judged (the mesh did not start, the baseline did not hold, the run
 * was interrupted); not-applicable: the mesh cannot take the scenario's faults (an external mesh without that means).
 */
export type ScenarioStatus = "passed" | "failed" | "aborted" | "not-applicable";

export interface ScenarioVerdict {
  name: string;
  status: ScenarioStatus;
  durationMs: number;
  /** Why the scenario was not judged (status "aborted" or "not-applicable"). */
  abortReason?: string;
  groundTruth: { requests: number; byStatus: Record<string, number>; faults: FaultRecord[] };
  /** Wall time of each phase in ms, in order. */
  phases: Record<string, number>;
  /** Figures measured along the way (e.g. readiness flip latencies, schedule drift). */
  measurements: Record<string, number>;
  assertions: AssertionResult[];
}

export function scenarioStatus(assertions: readonly AssertionResult[]): ScenarioStatus {
  return assertions.some((a) => a.status === "failed") ? "failed" : "passed";
}

/**
 * 0 every judged scenario passed; 1 an assertion failed; 2 a scenario was aborted, or none could be judged at all
 * (every one not applicable). Not-applicable scenarios are reported, never counted as passed.
 */
export function exitCodeFor(verdict: Verdict): number {
  if (verdict.scenarios.some((s) => s.status === "aborted")) return 2;
  if (verdict.scenarios.some((s) => s.status === "failed")) return 1;
  return verdict.scenarios.some((s) => s.status === "passed") ? 0 : 2;
}

export { ALL_FAMILIES as FAMILIES } from "../../assertions/expectations";
