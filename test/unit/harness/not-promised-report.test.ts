import { evaluate, judgeRun } from "../../../assertions/evaluate";
import type { AssertionResult } from "../../../assertions/evidence";
import { notPromised } from "../../../assertions/result";
import { mutantsOf, unjudgeable } from "../../../harness/mutate/engine";
import { exemplarToMissingTrace } from "../../../harness/mutate/operators/correlation";
import { reportHtml } from "../../../harness/report/html-report";
import { summaryTable } from "../../../harness/report/reporters/list";
import { toJUnit } from "../../../harness/report/reporters/junit";
import {
  exitCodeFor,
  NOTHING_JUDGED,
  scenarioStatus,
  type ScenarioVerdict,
  type Verdict,
} from "../../../harness/report/verdict";
import { scenarioVerdict } from "../../../harness/run/judge";
import { withContract } from "../../support/foreign-shape";
import { scenarioFixture } from "../../support/evidence-fixture";

// A not-promised assertion neither passes nor fails a scenario, and every report says so as it is.

const passed: AssertionResult = {
  id: "traces.complete",
  family: "traces",
  status: "passed",
  message: "all 10 requests have their trace (compared 10 requests)",
  expected: {},
  observed: { compared: 10 },
};
const failed: AssertionResult = { ...passed, id: "traces.edge-status", status: "failed", message: "2 finding(s)" };
const np = notPromised(
  "correlation.logs",
  "correlation",
  "no service declares a readable structured log (services.<name>.logFile)",
);
const npTraces = notPromised("traces.request-id", "traces", "no service's contract names a request-id span attribute");

function scenario(name: string, assertions: AssertionResult[]): ScenarioVerdict {
  return {
    name,
    status: scenarioStatus(assertions),
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
      startedAt: "2026-12-06T00:00:00.000Z",
      durationMs: 3000,
      backend: "native",
      tools: {},
      seed: 1,
      mesh: { description: "external mesh", impl: {} },
    },
    scenarios,
  };
}

describe("a not-promised assertion", () => {
  test("is built with its reason, compares nothing, and is neither passed nor failed", () => {
    expect(np).toEqual({
      id: "correlation.logs",
      family: "correlation",
      status: "not-promised",
      message: "not promised: no service declares a readable structured log (services.<name>.logFile)",
      expected: { promised: false },
      observed: { compared: 0 },
    });
  });

  test("neither fails nor passes a scenario; a scenario where nothing was judged is not applicable", () => {
    expect(scenarioStatus([passed, np])).toBe("passed");
    expect(scenarioStatus([failed, np])).toBe("failed");
    expect(scenarioStatus([np, npTraces])).toBe("not-applicable");
    expect(exitCodeFor(verdictOf(scenario("a", [np])))).toBe(2);
    expect(exitCodeFor(verdictOf(scenario("a", [np]), scenario("b", [passed, np])))).toBe(0);
  });

  test("the one verdict builder gives a scenario judged on nothing its reason", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    withContract(evidence, (c) => delete c.exemplarTraceIdLabel);
    const judgement = judgeRun(evidence, { ...expectations, families: ["correlation"] });
    judgement.assertions = judgement.assertions.filter((a) => a.status === "not-promised");
    const v = scenarioVerdict(
      { name: "baseline" },
      { status: "judged", evidence, expectations, judgement },
      { durationMs: 1, phases: {}, measurements: {} },
    );
    expect(v.status).toBe("not-applicable");
    expect(v.abortReason).toBe(NOTHING_JUDGED);
    expect(NOTHING_JUDGED).toBe("nothing the mesh promises could be judged");
  });

  test("the console table counts passed/judged per family, then the not promised", () => {
    const table = summaryTable(verdictOf(scenario("hotrod", [passed, npTraces, np])));
    const row = table.split("\n")[2]!;
    expect(row).toMatch(/^hotrod\s+1\/1 \+1 np\s+-\s+-\s+-\s+-\s+0\/0 \+1 np\s+-\s+PASSED/);
  });

  test("junit: a skipped testcase whose message says what is not promised", () => {
    const xml = toJUnit(verdictOf(scenario("hotrod", [passed, np]), scenario("nothing", [np])));
    expect(xml).toContain(
      '<testcase classname="hotrod.correlation" name="correlation.logs" time="0.000">\n      <skipped message="not promised: no service declares a readable structured log (services.&lt;name&gt;.logFile)"/>',
    );
    expect(xml).toContain('<testsuite name="hotrod" tests="2" failures="0" errors="0" skipped="1"');
    // Jenkins' schema has no skipped count on testsuites: each testsuite carries its own.
    expect(xml).toContain('<testsuites name="meshproof" tests="4" failures="0" errors="0" time=');
    expect(xml).toContain('<testsuite name="nothing" tests="2" failures="0" errors="0" skipped="2"');
    expect(xml).not.toContain("<failure");
  });

  test("report.html counts them apart: passed/judged, +N np, never a pass", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    withContract(evidence, (c) => delete c.exemplarTraceIdLabel);
    const assertions = evaluate(evidence, expectations);
    const v = verdictOf(scenario("baseline", assertions));
    const html = reportHtml(v, [{ name: "baseline", expectations, evidence }]);
    expect(html).toMatch(/<td class="ok">1\/1 <small title="not promised">\+1 np<\/small><\/td>/);
    expect(html).toContain("Every judged assertion passed");
    expect(html).toContain('<span class="badge not-promised">not-promised</span>');
  });

  test("npm run mutate: a run with not-promised assertions is judgeable, and they kill no mutant", () => {
    const saved = scenarioFixture("baseline");
    withContract(saved.evidence, (c) => delete c.exemplarTraceIdLabel);
    expect(unjudgeable(saved)).toBeUndefined();
    const results = mutantsOf(saved, exemplarToMissingTrace, { perOperator: 2, seed: 1 });
    expect(results.length).toBeGreaterThan(0);
    for (const r of results)
      expect({ killed: r.killed, killedBy: r.killedBy }).toEqual({ killed: false, killedBy: [] });
  });
});
