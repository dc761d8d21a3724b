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
}

/** evaluate(), and the measured effect of every fault beside it (a fault without effect: inconclusive). */
export function judgeRun(evidence: Evidence, expectations: Expectations): Judgement {
  const view = new RunView(evidence, expectations);
  return { assertions: assertionsOf(view), effects: measureFaultEffects(view) };
}

function assertionsOf(view: RunView): AssertionResult[] {
  const results = view.expectations.families.flatMap((family) => FAMILIES[family](view));
  // A contract mismatch is told once, before any family's verdicts: those families left the lacking series out.
  const first = results.findIndex((r) => r.id === HYGIENE_ASSERTIONS.contractLabels);
  if (first > 0) results.unshift(...results.splice(first, 1));
  return results;
}
