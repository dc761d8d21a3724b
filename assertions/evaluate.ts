import type { TelemetryContract } from "./contract";
import { DEFAULT_CONTRACT } from "./contract";
import type { AssertionFamily, AssertionResult, Evidence } from "./evidence";
import type { Expectations } from "./expectations";
import { assertHygiene } from "./hygiene-assertions";
import { assertMetrics } from "./metric-assertions";
import { assertProbes } from "./probe-assertions";
import { assertRuntime } from "./runtime-assertions";
import { assertTraces } from "./trace-assertions";

type FamilyAssertion = (
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract,
) => AssertionResult[];

const FAMILIES: Record<AssertionFamily, FamilyAssertion> = {
  traces: assertTraces,
  runtime: assertRuntime,
  hygiene: assertHygiene,
  metrics: assertMetrics,
  probes: assertProbes,
};

/** Runs the families the expectations ask for, in that order, and returns all their results. */
export function evaluate(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  return expectations.families.flatMap((family) => {
    return FAMILIES[family](evidence, expectations, contract);
  });
}
