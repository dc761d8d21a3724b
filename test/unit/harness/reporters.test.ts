import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { judgeRun } from "../../../assertions/evaluate";
import type { ReporterFactory } from "../../../harness/report/reporter";
import { REPORTERS, reportersFor } from "../../../harness/report/reporters";
import { OUTPUTS_MARKER, recordedOutputs } from "../../../harness/report/report-dir";
import type { Verdict } from "../../../harness/report/verdict";
import { scenarioVerdict } from "../../../harness/run/judge";
import { scoreRun } from "../../../harness/run/score-run";
import type { ScenarioRun } from "../../../harness/run/scenario-run";
import { scenarioFixture } from "../../support/evidence-fixture";

/** A new output format: TAP, one line per assertion. It needs nothing but itself and a registry entry. */
const tapReporter: ReporterFactory = ({ reportDir }) => ({
  onRunEnd({ verdict }) {
    const results = verdict.scenarios.flatMap((s) => s.assertions.map((a) => ({ name: `${s.name} ${a.id}`, ...a })));
    const body = results.map((a, i) => `${a.status === "passed" ? "ok" : "not ok"} ${i + 1} - ${a.name}`);
    fs.writeFileSync(path.join(reportDir, "results.tap"), [`1..${results.length}`, ...body].join("\n"));
  },
});

/** One scenario's run as the run loop hands it to reporters, judged from the fixture's saved evidence. */
function replayed(name: string): ScenarioRun {
  const saved = scenarioFixture(name);
  const judgement = judgeRun(saved.evidence, saved.expectations);
  const verdict = scenarioVerdict(
    { name },
    { status: "judged", evidence: saved.evidence, expectations: saved.expectations, judgement },
    { durationMs: 1, phases: {}, measurements: {} },
  );
  return { verdict, expectations: saved.expectations, evidence: saved.evidence, logFiles: [] };
}

function verdictOf(runs: readonly ScenarioRun[]): Verdict {
  const saved = runs.map((r) => ({ name: r.verdict.name, expectations: r.expectations, evidence: r.evidence! }));
  return {
    version: 2,
    run: {
      id: "unit",
      startedAt: "2026-12-06T00:00:00.000Z",
      durationMs: 2,
      backend: "native",
      tools: {},
      seed: 1,
      mesh: { description: "sample mesh (native processes)", impl: {} },
    },
    scenarios: runs.map((r) => r.verdict),
    rca: scoreRun(
      runs.map((r) => r.verdict),
      saved,
    ),
  };
}

/** Replays a run's events through the named reporters; returns what they wrote to stdout and the errors. */
async function replay(names: string[], registry = REPORTERS) {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-reporters-"));
  let stdout = "";
  const reporter = reportersFor(
    names,
    { reportDir, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true } },
    registry,
  );
  const runs = ["baseline", "redis-outage"].map(replayed);
  await reporter.onRunBegin({ scenarios: runs.map((r) => r.verdict.name), reportDir });
  for (const [index, run] of runs.entries()) await reporter.onScenarioEnd({ run, index, total: runs.length });
  const saved = runs.map((r) => ({ name: r.verdict.name, expectations: r.expectations, evidence: r.evidence! }));
  await reporter.onRunEnd({ verdict: verdictOf(runs), saved, reportDir });
  return { reportDir, stdout, errors: reporter.errors };
}

describe("reporters", () => {
  test("a new output format is one reporter plus a registry entry; the others write as before", async () => {
    const { reportDir, stdout, errors } = await replay(["list", "json", "tap"], { ...REPORTERS, tap: tapReporter });
    expect(errors).toEqual([]);
    const tap = fs.readFileSync(path.join(reportDir, "results.tap"), "utf8").split("\n");
    const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
    const assertions = verdict.scenarios.flatMap((s) => s.assertions);
    expect(assertions.length).toBeGreaterThan(20);
    expect(tap[0]).toBe(`1..${assertions.length}`);
    expect(tap).toContain(`ok 1 - baseline ${assertions[0]!.id}`);
    expect(stdout).toMatch(/^baseline(\s+\d+\/\d+){6}\s+-\s+PASSED/m);
    expect(stdout).toContain(`verdict: ${path.join(reportDir, "verdict.json")}`);
    // Only what was asked for is written, and the marker records meshproof's own (the next run removes only those).
    expect(fs.readdirSync(reportDir).sort()).toEqual([OUTPUTS_MARKER, "results.tap", "verdict.json"]);
    expect(recordedOutputs(reportDir)).toEqual(["verdict.json"]);
  });

  test("a reporter that throws is named in one line and the others still write their files", async () => {
    const broken: ReporterFactory = () => ({
      onScenarioEnd: () => {
        throw new Error("disk full");
      },
      onRunEnd: async () => Promise.reject(new Error("still full")),
    });
    const { reportDir, errors } = await replay(["broken", "json", "junit"], { ...REPORTERS, broken });
    expect(errors).toEqual([
      'reporter "broken" failed in onScenarioEnd: disk full',
      'reporter "broken" failed in onScenarioEnd: disk full',
      'reporter "broken" failed in onRunEnd: still full',
    ]);
    expect(fs.readdirSync(reportDir).sort()).toEqual([OUTPUTS_MARKER, "junit.xml", "verdict.json"]);
  });

  test("an unknown reporter is a usage error naming the valid ones", () => {
    expect(() =>
      reportersFor(["json", "yaml"], { reportDir: "/tmp", stdout: process.stdout, stderr: process.stderr }),
    ).toThrow(`--reporter yaml: valid reporters: ${Object.keys(REPORTERS).join(", ")}`);
  });
});
