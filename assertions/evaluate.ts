import type { TelemetryContract } from "./contract";
import { DEFAULT_CONTRACT } from "./contract";
import type { AssertionFamily, AssertionResult, Evidence } from "./evidence";
import type { Expectations } from "./expectations";
import { assertHygiene } from "./hygiene-assertions";
import { assertRuntime } from "./runtime-assertions";
import { assertTraces } from "./trace-assertions";

type FamilyAssertion = (
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract,
) => AssertionResult[];

const FAMILIES: Partial<Record<AssertionFamily, FamilyAssertion>> = {
  traces: assertTraces,
  runtime: assertRuntime,
  hygiene: assertHygiene,
};

/** Runs the families the expectations ask for, in that order, and returns all their results. */
export function evaluate(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  return expectations.families.flatMap((family) => {
    const assert = FAMILIES[family];
    if (!assert) throw new Error(`no assertion family "${family}" (known: ${Object.keys(FAMILIES).join(", ")})`);
    return assert(evidence, expectations, contract);
  });
}
