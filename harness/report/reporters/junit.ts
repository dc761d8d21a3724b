import fs from "node:fs";
import path from "node:path";
import type { ReporterFactory } from "../reporter";
import type { Verdict } from "../verdict";

function escape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/**
 * JUnit XML: a testsuite per scenario, a testcase per assertion; an aborted scenario is one errored testcase, a
 * fault whose effect was not observed (an inconclusive scenario) an errored "fault <id>" testcase, and a not-promised
 * assertion a skipped testcase whose message says what the mesh does not promise.
 */
export function toJUnit(verdict: Verdict): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = verdict.scenarios.flatMap((s) => s.assertions);
  const failures = all.filter((a) => a.status === "failed").length;
  const notPromised = (s: Verdict["scenarios"][number]) => s.assertions.filter((a) => a.status === "not-promised");
  const noEffect = (s: Verdict["scenarios"][number]) =>
    s.groundTruth.faults.filter((f) => f.effect && !f.effect.observed);
  const errors = verdict.scenarios.reduce((n, s) => n + (s.status === "aborted" ? 1 : 0) + noEffect(s).length, 0);
  const runs = verdict.scenarios.filter((s) => s.status === "not-applicable").length;
  const skipped = runs + verdict.scenarios.reduce((n, s) => n + notPromised(s).length, 0);
  lines.push(
    `<testsuites name="meshproof" tests="${all.length + errors + runs}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(verdict.run.durationMs / 1000).toFixed(3)}">`,
  );
  for (const scenario of verdict.scenarios) {
    const failed = scenario.assertions.filter((a) => a.status === "failed").length;
    const aborted = (scenario.status === "aborted" ? 1 : 0) + noEffect(scenario).length;
    const run = scenario.status === "not-applicable" ? 1 : 0;
    const skipped = run + notPromised(scenario).length;
    lines.push(
      `  <testsuite name="${escape(scenario.name)}" tests="${scenario.assertions.length + aborted + run}" failures="${failed}" errors="${aborted}" skipped="${skipped}" time="${(scenario.durationMs / 1000).toFixed(3)}" timestamp="${verdict.run.startedAt}">`,
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
    for (const assertion of scenario.assertions) {
      const classname = `${scenario.name}.${assertion.family}`;
      lines.push(`    <testcase classname="${escape(classname)}" name="${escape(assertion.id)}">`);
      if (assertion.status === "failed") {
        const detail = `expected: ${JSON.stringify(assertion.expected)}\nobserved: ${JSON.stringify(assertion.observed)}`;
        lines.push(`      <failure message="${escape(assertion.message)}">${escape(detail)}</failure>`);
      }
      if (assertion.status === "not-promised") lines.push(`      <skipped message="${escape(assertion.message)}"/>`);
      lines.push("    </testcase>");
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}

/** junit.xml in the report dir. */
export const junitReporter: ReporterFactory = ({ reportDir, stdout }) => ({
  onRunEnd({ verdict }) {
    const file = path.join(reportDir, "junit.xml");
    fs.writeFileSync(file, toJUnit(verdict));
    stdout.write(`junit: ${file}\n`);
  },
});
