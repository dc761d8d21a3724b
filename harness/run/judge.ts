import type { Judgement } from "../../assertions/evaluate";
import type { Evidence, FaultRecord } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import { localize } from "../../assertions/rca";
import type { K6Extras } from "../load/k6-driver";
import { NOTHING_JUDGED, scenarioStatus, type ScenarioStatus, type ScenarioVerdict } from "../report/verdict";

/** How a scenario ended, as the verdict tells it. */
export type ScenarioOutcome =
  | { status: "not-applicable" | "aborted"; reason: string; faults?: readonly FaultRecord[] }
  | {
      status: "judged";
      evidence: Evidence;
      expectations: Expectations;
      judgement: Judgement;
      k6?: K6Extras;
    };

/**
 * The one place a scenario verdict is built: its status (k6's own thresholds fail it too), the ground truth of the
 * request log and the fault journal with each fault's measured effect, the phases and figures, and root-cause
 * localisation of its windows.
 */
export function scenarioVerdict(
  scenario: { name: string; file?: string | undefined },
  outcome: ScenarioOutcome,
  timing: { durationMs: number; phases: Record<string, number>; measurements: Record<string, number> },
): ScenarioVerdict {
  const { name } = scenario;
  const file = scenario.file ? { file: scenario.file } : {};
  if (outcome.status !== "judged")
    return {
      name,
      ...file,
      status: outcome.status,
      durationMs: timing.durationMs,
      abortReason: outcome.reason,
      groundTruth: { requests: 0, byStatus: {}, faults: [...(outcome.faults ?? [])] },
      phases: timing.phases,
      measurements: timing.measurements,
      assertions: [],
    };
  const { evidence, judgement, k6 } = outcome;
  const { assertions, effects } = judgement;
  const status = judgedStatus(scenarioStatus(assertions, effects), k6);
  return {
    name,
    ...file,
    status,
    durationMs: timing.durationMs,
    ...(status === "not-applicable" ? { abortReason: NOTHING_JUDGED } : {}),
    groundTruth: {
      requests: evidence.requests.length,
      byStatus: countBy(evidence.requests.map((r) => String(r.status))),
      faults: evidence.faults.map((record) => ({ ...record, effect: effects.find((e) => e.faultId === record.id) })),
    },
    phases: timing.phases,
    measurements: timing.measurements,
    assertions,
    judgeMs: judgement.familyMs,
    ...(k6 ? { k6: k6Verdict(k6) } : {}),
    rca: localize(evidence, { topology: outcome.expectations.topology }),
  };
}

/**
 * k6's own thresholds are the driver's verdict on what it measured: one crossed fails a passing scenario (and one
 * where nothing the mesh promises could be judged: k6 judged something, and it failed).
 */
function judgedStatus(status: ScenarioStatus, k6?: K6Extras): ScenarioStatus {
  return (status === "passed" || status === "not-applicable") && k6?.exitCode === 1 ? "failed" : status;
}

function k6Verdict(k6: K6Extras): NonNullable<ScenarioVerdict["k6"]> {
  return {
    version: k6.version,
    outcome: k6.outcome,
    exitCode: k6.exitCode,
    thresholds: k6.thresholds,
    planned: k6.planned,
    iterations: k6.iterations,
    droppedIterations: k6.droppedIterations,
    summary: k6.summaryText,
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
