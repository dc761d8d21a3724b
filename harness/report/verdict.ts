import type { AssertionFamily, AssertionResult, FaultRecord } from "../../assertions/evidence";
import type { MeasuredEffect } from "../../assertions/faults";
import type { RcaResult, RcaScore } from "../../assertions/rca";

/**
 * verdict.json, a public contract: add fields, never change or remove them without bumping `version`.
 * Version 2: assertions carry observed.compared; scenario status "not-applicable"; run.mesh. Added since (no bump:
 * new fields and a new status only): status "inconclusive", groundTruth.faults[].effect.
 */
export interface Verdict {
  version: 2;
  run: {
    id: string;
    startedAt: string;
    /** The whole run's wall time: setup, capacity and scenarios (`timings` splits it). */
    durationMs: number;
    /** Where the run's time went; absent in verdicts written before it was recorded. */
    timings?: RunTimings;
    backend: string;
    /** Why this backend: what `--backend auto` chose and why, or the one asked for. */
    backendReason?: string;
    /** Scenarios run at once (--workers); absent in verdicts written before it was recorded. */
    workers?: number;
    /** Where the judge read traces: jaeger or zipkin (--trace-store); absent in verdicts written before it was recorded. */
    traceStore?: string;
    tools: Record<string, string>;
    seed: number;
    /** The mesh judged: how it ran and which implementation each service had. */
    mesh: { description: string; impl: Record<string, string> };
    /** Mesh defects switched on (negative controls); absent in verdicts written before it was recorded. */
    defects?: string[];
    /** The mesh's capacity the load scenarios took shares of (requests/s), when one did. */
    capacity?: { ratePerSec: number; measuredAt: string; key: string };
    /** The command that runs the same scenarios the same way (seed, backend, defects); absent before it was recorded. */
    command?: string;
    /**
     * The signal that interrupted the run (SIGINT, SIGTERM): every scenario it kept from running is aborted, and the
     * run is never reported as passed. Absent for a run that was not interrupted.
     */
    interrupted?: string;
  };
  scenarios: ScenarioVerdict[];
  /**
   * Root-cause localisation scored against the fault journals of the run's scenarios (assertions/rca/): AC@1 and
   * AC@3 as shares 0..1 of the journaled faults whose target service (a link's callee, or its caller when the callee
   * is a backend without spans such as Redis) is the first / among the first three services the windows the fault
   * overlaps point at (route windows and runtime windows), Avg@5 the mean of AC@1..AC@5; a target not ranked at all
   * is a miss at every k; per fault kind; every miss with its ranking; windows that overlap no fault. `ac1`, `ac3`
   * and `avg5` are null when no scenario journaled a fault. Absent in verdicts written before RCA (`avg5` before
   * runtime windows).
   */
  rca?: RcaScore;
}

/**
 * passed / failed: judged; inconclusive: judged, but a fault's measured effect was not what it declared (it did not
 * take, or took far more), so the assertions judged a run other than the scenario; aborted: could not be judged (the
 * mesh did not start, the baseline did not hold, the run was interrupted); not-applicable: the mesh cannot take the
 * scenario's faults (an external mesh without that means), or it ran but nothing it promises could be judged (every
 * assertion not promised).
 */
export type ScenarioStatus = "passed" | "failed" | "inconclusive" | "aborted" | "not-applicable";

/** A run's wall time by part (ms): tool provisioning, backend start, capacity measurement, the scenarios. */
export interface RunTimings {
  toolsMs: number;
  backendMs: number;
  capacityMs: number;
  scenariosMs: number;
}

export interface ScenarioVerdict {
  name: string;
  /** The scenario's (or its template's) file, as the catalog loaded it. */
  file?: string;
  status: ScenarioStatus;
  durationMs: number;
  /** Why the scenario was not judged (status "aborted" or "not-applicable"). */
  abortReason?: string;
  /** The fault journal, each entry with its measured effect beside what it declared. */
  groundTruth: {
    requests: number;
    byStatus: Record<string, number>;
    faults: (FaultRecord & { effect?: MeasuredEffect })[];
  };
  /** Wall time of each phase in ms, in order. */
  phases: Record<string, number>;
  /** Figures measured along the way (e.g. readiness flip latencies, schedule drift). */
  measurements: Record<string, number>;
  assertions: AssertionResult[];
  /** How long judging each family took (ms): junit.xml shares it among the family's testcases. */
  judgeMs?: Partial<Record<AssertionFamily, number>>;
  /**
   * When k6 drove the load: its version, outcome and exit code (1: a threshold crossed, which fails the scenario),
   * its thresholds, its iteration accounting and its end-of-test summary as it printed it.
   */
  k6?: {
    version: string;
    outcome: string;
    exitCode: number;
    thresholds: { metric: string; expression: string; ok: boolean }[];
    planned: number;
    iterations: number;
    droppedIterations: number;
    summary: string;
  };
  /**
   * Root-cause localisation of this scenario (assertions/rca/): each window where a route's error rate or p99
   * moved away from its steady state, with its ranked suspects and their runtime. Absent for an aborted scenario and
   * in verdicts written before RCA.
   */
  rca?: RcaResult;
}

/** Why a judged scenario is not applicable: no assertion passed or failed, every one was not promised. */
export const NOTHING_JUDGED = "nothing the mesh promises could be judged";

/**
 * Inconclusive when a fault's effect was not observed (whatever the assertions say), else failed or passed; a
 * not-promised assertion neither fails nor passes a scenario, and one in which none passed or failed is
 * not-applicable (NOTHING_JUDGED).
 */
export function scenarioStatus(
  assertions: readonly AssertionResult[],
  effects: readonly MeasuredEffect[] = [],
): ScenarioStatus {
  if (effects.some((e) => !e.observed)) return "inconclusive";
  if (assertions.some((a) => a.status === "failed")) return "failed";
  return assertions.some((a) => a.status === "passed") ? "passed" : "not-applicable";
}

/** A verdict's assertions counted by status: judged = passed + failed; not promised apart. */
export function statusCounts(assertions: readonly AssertionResult[]): {
  passed: number;
  failed: number;
  judged: number;
  notPromised: number;
} {
  const count = (status: AssertionResult["status"]) => assertions.filter((a) => a.status === status).length;
  const [passed, failed, notPromised] = [count("passed"), count("failed"), count("not-promised")];
  return { passed, failed, judged: passed + failed, notPromised };
}

/**
 * 0 every judged scenario passed; 1 an assertion failed; 2 a scenario was aborted, or none could be judged at all
 * (every one not applicable); 3 none failed but one was inconclusive (a fault without its declared effect); 130 the
 * run was interrupted by SIGINT (Ctrl-C; one interrupted by SIGTERM exits 2, aborted).
 * Not-applicable scenarios are reported, never counted as passed.
 */
export function exitCodeFor(verdict: Verdict): number {
  if (verdict.run.interrupted === "SIGINT") return 130;
  if (verdict.scenarios.some((s) => s.status === "aborted")) return 2;
  if (verdict.scenarios.some((s) => s.status === "failed")) return 1;
  if (verdict.scenarios.some((s) => s.status === "inconclusive")) return 3;
  return verdict.scenarios.some((s) => s.status === "passed") ? 0 : 2;
}

/** A verdict's outcomes as "scenario status" and "scenario id status" lines, in order: what two runs compare. */
export function outcomeLines(verdict: Verdict): string[] {
  return verdict.scenarios.flatMap((s) => [
    `${s.name} ${s.status}`,
    ...s.assertions.map((a) => `${s.name} ${a.id} ${a.status}`),
  ]);
}

/** Where two verdicts' outcomes differ: each line one of them has and the other has not, labelled by its side. */
export function outcomeDifferences(a: Verdict, b: Verdict, labels: [string, string]): string[] {
  const [x, y] = [outcomeLines(a), outcomeLines(b)];
  const width = Math.max(...labels.map((l) => l.length)) + 6;
  return [
    ...x.filter((line) => !y.includes(line)).map((line) => `${`${labels[0]} only:`.padEnd(width)}${line}`),
    ...y.filter((line) => !x.includes(line)).map((line) => `${`${labels[1]} only:`.padEnd(width)}${line}`),
  ];
}
