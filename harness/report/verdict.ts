import type { AssertionResult, FaultRecord } from "../../assertions/evidence";

/** verdict.json, a public contract: add fields, never change or remove them without bumping `version`. */
export interface Verdict {
  version: 1;
  run: {
    id: string;
    startedAt: string;
    durationMs: number;
    backend: string;
    tools: Record<string, string>;
    seed: number;
  };
  scenarios: ScenarioVerdict[];
}

export type ScenarioStatus = "passed" | "failed" | "aborted";

export interface ScenarioVerdict {
  name: string;
  status: ScenarioStatus;
  durationMs: number;
  /** Why the scenario could not be judged (status "aborted"). */
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

/** 0 all passed, 1 an assertion failed, 2 a scenario was aborted. */
export function exitCodeFor(verdict: Verdict): number {
  if (verdict.scenarios.some((s) => s.status === "aborted")) return 2;
  return verdict.scenarios.some((s) => s.status === "failed") ? 1 : 0;
}

export { ALL_FAMILIES as FAMILIES } from "../../assertions/expectations";
