import { failureDetails, summaryTable } from "../../../harness/report/reporters/list";
import { toJUnit } from "../../../harness/report/reporters/junit";
import { exitCodeFor, scenarioStatus, type ScenarioVerdict, type Verdict } from "../../../harness/report/verdict";
import type { AssertionResult } from "../../../assertions/evidence";

const passed: AssertionResult = {
  id: "traces.complete",
  family: "traces",
  status: "passed",
  message: "all 10 requests have their trace (compared 10 requests)",
  expected: { traces: 10 },
  observed: { compared: 10 },
};
const failed: AssertionResult = {
  id: "metrics.edge-status-counts",
  family: "metrics",
  status: "failed",
  message: 'gateway counted 3 x "502" <but> the driver saw 4',
  expected: { "502": 4 },
  observed: { "502": 3, compared: 10 },
  evidence: { traceIds: ["abc"] },
};

function scenario(name: string, assertions: AssertionResult[], status = scenarioStatus(assertions)): ScenarioVerdict {
  return {
    name,
    status,
    durationMs: 1500,
    groundTruth: { requests: 10, byStatus: { "200": 10 }, faults: [] },
    phases: {},
    measurements: {},
    assertions,
  };
}

function verdictOf(...scenarios: ScenarioVerdict[]): Verdict {
  return {
    version: 2,
    run: {
      id: "r1",
      startedAt: "2026-11-21T00:00:00.000Z",
      durationMs: 3000,
      backend: "native",
      tools: {},
      seed: 1,
      mesh: { description: "sample mesh (native processes)", impl: {} },
    },
    scenarios,
  };
}

describe("reports", () => {
  test("exit code: 0 all passed, 1 an assertion failed, 2 a scenario aborted", () => {
    expect(exitCodeFor(verdictOf(scenario("a", [passed])))).toBe(0);
    expect(exitCodeFor(verdictOf(scenario("a", [passed]), scenario("b", [passed, failed])))).toBe(1);
    expect(exitCodeFor(verdictOf(scenario("a", [failed]), scenario("b", [], "aborted")))).toBe(2);
  });

  test("junit has a testsuite per scenario and a testcase per assertion, escaped", () => {
    const xml = toJUnit(verdictOf(scenario("baseline", [passed]), scenario("payments-errors", [passed, failed])));
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('<testsuites name="meshproof" tests="3" failures="1" errors="0"');
    expect(xml).toContain("&lt;but&gt;");
    expect(xml).toContain('name="metrics.edge-status-counts"');
  });

  test("an aborted scenario is one errored testcase with its reason", () => {
    const aborted = { ...scenario("redis-outage", [], "aborted"), abortReason: "steady state did not hold" };
    const xml = toJUnit(verdictOf(aborted));
    expect(xml).toContain('<error message="steady state did not hold"/>');
    expect(failureDetails(verdictOf(aborted))).toBe("redis-outage: ABORTED: steady state did not hold");
  });

  test("the summary table shows passed/total per family", () => {
    const table = summaryTable(verdictOf(scenario("baseline", [passed, failed])));
    const row = table.split("\n")[2]!;
    expect(row).toMatch(/^baseline\s+1\/1\s+0\/1\s+-\s+-\s+-\s+-\s+-\s+FAILED\s+1\.5 s$/);
  });
});
