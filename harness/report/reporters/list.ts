import path from "node:path";
import { groupFailures, HINTS } from "../../../assertions/explain";
import { rcaScoreLine } from "../../../assertions/rca";
import { anchor } from "../report-html";
import type { ReporterFactory } from "../reporter";
import { ALL_FAMILIES } from "../../../assertions/evidence";
import { statusCounts, type Verdict } from "../verdict";

/**
 * The summary table: one row per scenario, one column per assertion family (passed/judged, then " +N np" when N of
 * its assertions were not promised), the faults whose effect was measured as declared, then the status.
 */
export function summaryTable(verdict: Verdict): string {
  const header = ["scenario", ...ALL_FAMILIES, "faults", "status", "time"];
  const rows = verdict.scenarios.map((s) => [
    s.name,
    ...ALL_FAMILIES.map((family) => {
      const of = s.assertions.filter((a) => a.family === family);
      if (of.length === 0) return "-";
      const { passed, judged, notPromised } = statusCounts(of);
      return `${passed}/${judged}${notPromised ? ` +${notPromised} np` : ""}`;
    }),
    s.groundTruth.faults.length
      ? `${s.groundTruth.faults.filter((f) => f.effect?.observed).length}/${s.groundTruth.faults.length}`
      : "-",
    s.status.toUpperCase(),
    `${(s.durationMs / 1000).toFixed(1)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...rows.map(format)].join("\n");
}

/** The longest line the failure details print: a terminal or a CI log reads them without wrapping. */
export const MAX_LINE = 200;

/**
 * Failures first, one line each: per scenario its aborts and faults without their effect, then its failed assertions
 * grouped (groupFailures: the one that explains others first, its consequences nested under it), each as `✗ scenario
 * id: expected X, observed Y, on Z` with the mistake that usually produces it, the requests and traces it names and
 * its anchor in report.html. Colour only on a terminal; no line longer than MAX_LINE.
 */
export function failureDetails(verdict: Verdict, options: { colour?: boolean; reportFile?: string } = {}): string {
  const lines: string[] = [];
  for (const s of verdict.scenarios) {
    if (s.status === "aborted") lines.push(`${s.name}: ABORTED: ${s.abortReason}`);
    for (const f of s.groundTruth.faults.filter((x) => x.effect && !x.effect.observed))
      lines.push(
        `${s.name} fault ${f.id} (${f.kind} on ${f.target}): effect not observed, the scenario is INCONCLUSIVE`,
        `    declared: ${f.effect!.declared}; tolerance: ${f.effect!.tolerance}`,
        `    measured: ${f.effect!.detail}`,
      );
    for (const group of groupFailures(s.assertions)) {
      const a = group.cause;
      lines.push(`✗ ${s.name} ${a.id}: ${a.headline ?? a.message}`);
      if (HINTS[a.id]) lines.push(`    hint: ${HINTS[a.id]}`);
      const ids = [
        a.evidence?.requestIds?.length ? `requests ${a.evidence.requestIds.slice(0, 3).join(", ")}` : "",
        a.evidence?.traceIds?.length ? `traces ${a.evidence.traceIds.slice(0, 3).join(", ")}` : "",
      ].filter(Boolean);
      if (ids.length) lines.push(`    ${ids.join("; ")}`);
      if (options.reportFile) lines.push(`    report: ${options.reportFile}#${anchor(s.name, a.id)}`);
      // Nested under their cause; why it explains them is in junit.xml and report.html.
      for (const { assertion } of group.consequences)
        lines.push(`    ↳ ✗ ${assertion.id}: ${assertion.headline ?? assertion.message}`);
    }
  }
  return lines
    .map((line) => cut(line, MAX_LINE))
    .map((line) => (options.colour ? paint(line) : line))
    .join("\n");
}

/** On a terminal: ✗ red, hints and report links dim. */
function paint(line: string): string {
  if (/^ {4}(hint|report): /.test(line)) return `\x1b[2m${line}\x1b[0m`;
  return line.replace(/^( {4}↳ )?✗/, (mark) => mark.replace("✗", "\x1b[31m✗\x1b[0m"));
}

/** A line cut to `max` characters with an ellipsis. */
function cut(line: string, max: number): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The scenarios' wall time, what setup and the capacity measurement took apart from it, and each scenario's fixed
 * cost (all but its load window: mesh start, steady state, snapshots, quiesce and collect, judging): "15 scenarios in
 * 165.2 s (apart: tools 0.3 s, backend 0.2 s, capacity 0.0 s); fixed cost per scenario median 1.4 s, max 5.9 s; 2
 * mesh start(s)".
 */
export function wallTimeLine(verdict: Verdict): string {
  const judged = verdict.scenarios.filter((s) => s.phases.load !== undefined);
  const fixed = judged.map((s) => (s.durationMs - (s.phases.load ?? 0)) / 1000).sort((a, b) => a - b);
  const starts = verdict.scenarios.filter((s) => (s.phases["mesh start"] ?? 0) > 0).length;
  const seconds = (v: number) => `${v.toFixed(1)} s`;
  const timings = verdict.run.timings;
  const apart = timings
    ? ` (apart: tools ${seconds(timings.toolsMs / 1000)}, backend ${seconds(timings.backendMs / 1000)}, capacity ${seconds(timings.capacityMs / 1000)})`
    : "";
  return (
    `${verdict.scenarios.length} scenario(s) in ${seconds((timings?.scenariosMs ?? verdict.run.durationMs) / 1000)}${apart}` +
    (fixed.length
      ? `; fixed cost per scenario (all but the load window) median ${seconds(fixed[(fixed.length - 1) >> 1]!)}, max ${seconds(fixed.at(-1)!)}; ${starts} mesh start(s)`
      : "")
  );
}

/** The console summary on stdout at the run's end: the table, each failure's details, RCA's score, the wall time. */
export const listReporter: ReporterFactory = ({ stdout, reportDir, reporters }) => ({
  onRunEnd({ verdict }) {
    const reportFile = reporters?.includes("html") ? path.join(reportDir, "report.html") : undefined;
    stdout.write(`\n${summaryTable(verdict)}\n`);
    const details = failureDetails(verdict, { colour: stdout.isTTY === true, ...(reportFile ? { reportFile } : {}) });
    if (details) stdout.write(`\n${details}\n`);
    if (verdict.rca) stdout.write(`\n${rcaScoreLine(verdict.rca)}\n`);
    stdout.write(`${wallTimeLine(verdict)}\n\n`);
  },
});
