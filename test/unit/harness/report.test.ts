import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { failureDetails, summaryTable, wallTimeLine } from "../../../harness/report/reporters/list";
import { resolveTool } from "../../../harness/tools/tools";
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

/** xmllint's verdict on a junit.xml against Jenkins' JUnit schema: "" when valid, else what it says is wrong. */
async function schemaErrors(xml: string): Promise<string> {
  // A missing xmllint fails here with `xmllint ... is not installed ...; run "npm run setup"`.
  const xmllint = await resolveTool("xmllint");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-junit-"));
  const file = path.join(dir, "junit.xml");
  fs.writeFileSync(file, xml);
  const schema = path.resolve(__dirname, "../../../../test/fixtures/junit/jenkins-junit-10.xsd");
  try {
    await promisify(execFile)(xmllint.path, ["--noout", "--schema", schema, file]);
    return "";
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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

  test("junit.xml is valid against Jenkins' JUnit schema, with times, the run's properties and the scenario's file", async () => {
    const notPromised: AssertionResult = {
      ...passed,
      id: "correlation.exemplars",
      family: "correlation",
      status: "not-promised",
    };
    const judged = {
      ...scenario("payments-errors", [passed, failed, notPromised]),
      file: "scenarios/leaf-errors.ts",
      judgeMs: { traces: 12, metrics: 8 },
    };
    const aborted = { ...scenario("redis-outage", [], "aborted"), abortReason: "steady state <did not> hold" };
    const verdict: Verdict = {
      ...verdictOf(judged, aborted, { ...scenario("memory-pressure", [], "not-applicable"), abortReason: "no admin" }),
    };
    verdict.run = {
      ...verdict.run,
      backendReason: "auto chose native: no Docker engine",
      defects: ["status-label-200"],
      command: "npm run scenario -- --seed 1 --backend native",
      timings: { toolsMs: 336_000, backendMs: 150, capacityMs: 43_000, scenariosMs: 3_000 },
    };
    const xml = toJUnit(verdict, "/reports/latest/report.html");
    expect(await schemaErrors(xml)).toBe("");
    // The check has teeth: an attribute the schema does not know (testsuites' skipped, which it used to carry) fails.
    expect(
      await schemaErrors(xml.replace('<testsuites name="meshproof"', '<testsuites skipped="1" name="meshproof"')),
    ).toMatch(/attribute 'skipped' is not allowed/);
    // The scenarios' time, not setup's; a testcase's time is its family's judging time shared among its testcases.
    expect(xml).toMatch(/<testsuites [^>]*time="3\.000">/);
    expect(xml).toContain('<testcase classname="payments-errors.traces" name="traces.complete" time="0.012">');
    expect(xml).toContain(
      '<testcase classname="payments-errors.metrics" name="metrics.edge-status-counts" time="0.008">',
    );
    expect(xml).toMatch(/<testsuite name="payments-errors" [^>]*file="scenarios\/leaf-errors\.ts">/);
    for (const [name, value] of [
      ["seed", "1"],
      ["defects", "status-label-200"],
      ["backend", "native"],
      ["backend.reason", "auto chose native: no Docker engine"],
      ["mesh", "sample mesh (native processes)"],
      ["command", "npm run scenario -- --seed 1 --backend native"],
      ["time.tools", "336.000"],
      ["time.capacity", "43.000"],
    ])
      expect(xml).toContain(`<property name="${name}" value="${value}"/>`);
    expect(xml).toContain("<system-out>report: /reports/latest/report.html#payments-errors</system-out>");
    expect(xml).toContain("steady state &lt;did not&gt; hold");
  });

  test("the terminal's wall time is the scenarios', with setup and capacity apart", () => {
    const verdict = verdictOf(scenario("baseline", [passed]));
    verdict.run.timings = { toolsMs: 336_000, backendMs: 150, capacityMs: 43_000, scenariosMs: 210_000 };
    expect(wallTimeLine(verdict)).toMatch(
      /^1 scenario\(s\) in 210\.0 s \(apart: tools 336\.0 s, backend 0\.1 s, capacity 43\.0 s\)/,
    );
  });

  test("junit.xml keeps hostile text from telemetry as text: still valid, nothing unescaped", async () => {
    const hostile = ["</script><script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "]]>&amp;"];
    const bad: AssertionResult = {
      ...failed,
      message: hostile.join(" "),
      headline: `expected ${hostile[1]}, observed ${hostile[0]}, on ${hostile[2]}`,
    };
    const named = { ...scenario("payments-errors", [bad]), file: hostile[1], abortReason: hostile[0] };
    const xml = toJUnit(verdictOf(named), `/tmp/${hostile[1]}/report.html`);
    expect(await schemaErrors(xml)).toBe("");
    for (const h of hostile) expect(xml).not.toContain(h);
    expect(xml).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});
