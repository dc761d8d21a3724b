import { assertCorrelation } from "./correlation-assertions";
import type { AssertionFamily, AssertionResult, Evidence } from "./evidence";
import type { Expectations } from "./expectations";
import { measureFaultEffects, type MeasuredEffect } from "./faults";
import { assertHygiene } from "./hygiene-assertions";
import { HYGIENE_ASSERTIONS } from "./hygiene/ids";
import { assertMetrics } from "./metric-assertions";
import { assertProbes } from "./probe-assertions";
import { assertRuntime } from "./runtime-assertions";
import { RunView, type TraceCache } from "./run-view";
import { assertTraces } from "./trace-assertions";

const FAMILIES: Record<AssertionFamily, (view: RunView) => AssertionResult[]> = {
  traces: assertTraces,
  metrics: assertMetrics,
  probes: assertProbes,
  runtime: assertRuntime,
  hygiene: assertHygiene,
  correlation: assertCorrelation,
};

/**
 * Judges one run: the families the expectations ask for, in that order. Each service is read through its own
 * contract (Evidence.services[].contract); what every family needs of the run is computed once (RunView), and with
 * a TraceCache, once across judgements of evidence that shares trace objects.
 */
export function evaluate(evidence: Evidence, expectations: Expectations, traceCache?: TraceCache): AssertionResult[] {
  return assertionsOf(new RunView(evidence, expectations, traceCache));
}

/** A judged run: the assertions, and what each journaled fault measurably did (from harness records only). */
export interface Judgement {
  assertions: AssertionResult[];
  effects: MeasuredEffect[];
  /** How long judging each family took (ms). */
  familyMs: Partial<Record<AssertionFamily, number>>;
}

/** evaluate(), and the measured effect of every fault beside it (a fault without effect: inconclusive). */
export function judgeRun(evidence: Evidence, expectations: Expectations): Judgement {
  const view = new RunView(evidence, expectations);
  const familyMs: Judgement["familyMs"] = {};
  return { assertions: assertionsOf(view, familyMs), effects: measureFaultEffects(view), familyMs };
}

function assertionsOf(view: RunView, familyMs?: Judgement["familyMs"]): AssertionResult[] {
  const results = view.expectations.families.flatMap((family) => {
    const started = performance.now();
    const judged = FAMILIES[family](view);
    if (familyMs) familyMs[family] = Math.round((performance.now() - started) * 1000) / 1000;
    return judged;
  });
  // A contract mismatch is told once, before any family's verdicts: those families left the lacking series out.
  const first = results.findIndex((r) => r.id === HYGIENE_ASSERTIONS.contractLabels);
  if (first > 0) results.unshift(...results.splice(first, 1));
  return results;
}
