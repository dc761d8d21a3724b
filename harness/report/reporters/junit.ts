import fs from "node:fs";
import path from "node:path";
import { groupFailures, HINTS } from "../../../assertions/explain";
import { anchor } from "../report-html";
import { recordOutputs } from "../report-dir";
import type { ReporterFactory } from "../reporter";
import type { Verdict } from "../verdict";

function escape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** The run's settings every testsuite carries as properties: enough to run it again the same way. */
function runProperties(verdict: Verdict): [string, string][] {
  const { run } = verdict;
  return [
    ["run.id", run.id],
    ["seed", String(run.seed)],
    ["defects", (run.defects ?? []).join(",")],
    ["backend", run.backend],
    ...(run.backendReason ? [["backend.reason", run.backendReason] as [string, string]] : []),
    ["mesh", run.mesh.description],
    ...(run.command ? [["command", run.command] as [string, string]] : []),
    ...Object.entries(run.timings ?? {}).map(([part, ms]): [string, string] => [
      `time.${part.replace(/Ms$/, "")}`,
      seconds(ms),
    ]),
  ];
}

/**
 * A testcase's time: its family's judging time shared equally among the family's assertions (they are judged
 * together).
 */
function testcaseMs(scenario: Verdict["scenarios"][number], family: string): number {
  const ms = scenario.judgeMs?.[family as keyof typeof scenario.judgeMs] ?? 0;
  return ms / Math.max(1, scenario.assertions.filter((a) => a.family === family).length);
}

/**
 * JUnit XML (valid against Jenkins' junit-10.xsd): a testsuite per scenario with its file, the run's properties
 * (seed, defects, backend, mesh, command, where the run's time went) and the report's path as system-out; a testcase
 * per assertion; an aborted scenario is one errored testcase, a fault whose effect was not observed (an inconclusive
 * scenario) an errored "fault <id>" testcase, and a not-promised assertion a skipped testcase whose message says what
 * the mesh does not promise. The testsuites' time is the scenarios' own, without setup and capacity.
 */
export function toJUnit(verdict: Verdict, reportFile?: string): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = verdict.scenarios.flatMap((s) => s.assertions);
  const failures = all.filter((a) => a.status === "failed").length;
  const notPromised = (s: Verdict["scenarios"][number]) => s.assertions.filter((a) => a.status === "not-promised");
  const noEffect = (s: Verdict["scenarios"][number]) =>
    s.groundTruth.faults.filter((f) => f.effect && !f.effect.observed);
  const errors = verdict.scenarios.reduce((n, s) => n + (s.status === "aborted" ? 1 : 0) + noEffect(s).length, 0);
  const runs = verdict.scenarios.filter((s) => s.status === "not-applicable").length;
  const properties = runProperties(verdict).map(
    ([name, value]) => `      <property name="${escape(name)}" value="${escape(value)}"/>`,
  );
  const scenariosMs = verdict.run.timings?.scenariosMs ?? verdict.run.durationMs;
  lines.push(
    `<testsuites name="meshproof" tests="${all.length + errors + runs}" failures="${failures}" errors="${errors}" time="${seconds(scenariosMs)}">`,
  );
  for (const scenario of verdict.scenarios) {
    const failed = scenario.assertions.filter((a) => a.status === "failed").length;
    const aborted = (scenario.status === "aborted" ? 1 : 0) + noEffect(scenario).length;
    const run = scenario.status === "not-applicable" ? 1 : 0;
    const skipped = run + notPromised(scenario).length;
    const file = scenario.file ? ` file="${escape(scenario.file)}"` : "";
    lines.push(
      `  <testsuite name="${escape(scenario.name)}" tests="${scenario.assertions.length + aborted + run}" failures="${failed}" errors="${aborted}" skipped="${skipped}" time="${seconds(scenario.durationMs)}" timestamp="${verdict.run.startedAt}"${file}>`,
      "    <properties>",
      ...properties,
      "    </properties>",
    );
    if (scenario.status === "aborted" || scenario.status === "not-applicable") {
      const element = scenario.status === "aborted" ? "error" : "skipped";
      lines.push(`    <testcase classname="${escape(scenario.name)}" name="run">`);
      lines.push(`      <${element} message="${escape(scenario.abortReason ?? scenario.status)}"/>`);
      lines.push("    </testcase>");
    }
    for (const fault of noEffect(scenario)) {
      lines.push(
        `    <testcase classname="${escape(scenario.name)}.faults" name="fault ${escape(fault.id)} ${escape(fault.kind)} ${escape(fault.target)}">`,
      );
      lines.push(
        `      <error message="${escape(`effect not observed: ${fault.effect!.detail}`)}">${escape(`declared: ${fault.effect!.declared}\ntolerance: ${fault.effect!.tolerance}\nmeasured: ${JSON.stringify(fault.effect!.measured)}`)}</error>`,
      );
      lines.push("    </testcase>");
    }
    const causes = new Map(
      groupFailures(scenario.assertions).flatMap((g) =>
        g.consequences.map((c) => [c.assertion, { id: g.cause.id, why: c.why }] as const),
      ),
    );
    for (const assertion of scenario.assertions) {
      const classname = `${scenario.name}.${assertion.family}`;
      const time = seconds(testcaseMs(scenario, assertion.family));
      lines.push(`    <testcase classname="${escape(classname)}" name="${escape(assertion.id)}" time="${time}">`);
      if (assertion.status === "failed") {
        const cause = causes.get(assertion);
        const detail = [
          assertion.message,
          ...(HINTS[assertion.id] ? [`hint: ${HINTS[assertion.id]}`] : []),
          ...(cause ? [`explained by ${cause.id}: ${cause.why}`] : []),
          ...(reportFile ? [`report: ${reportFile}#${anchor(scenario.name, assertion.id)}`] : []),
        ].join("\n");
        const message = assertion.headline ?? assertion.message;
        lines.push(`      <failure message="${escape(message)}">${escape(detail)}</failure>`);
      }
      if (assertion.status === "not-promised") lines.push(`      <skipped message="${escape(assertion.message)}"/>`);
      lines.push("    </testcase>");
    }
    if (reportFile)
      lines.push(`    <system-out>${escape(`report: ${reportFile}#${anchor(scenario.name)}`)}</system-out>`);
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}

/** junit.xml in the report dir. */
export const junitReporter: ReporterFactory = ({ reportDir, stdout }) => ({
  onRunEnd({ verdict }) {
    const file = path.join(reportDir, "junit.xml");
    recordOutputs(reportDir, "junit.xml");
    fs.writeFileSync(file, toJUnit(verdict, path.join(reportDir, "report.html")));
    stdout.write(`junit: ${file}\n`);
  },
});
