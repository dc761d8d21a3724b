import { rcaScoreLine } from "../../../assertions/rca";
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

/** Failed assertions, faults without their effect and aborted scenarios, one block each, with the evidence. */
export function failureDetails(verdict: Verdict): string {
  const blocks: string[] = [];
  for (const s of verdict.scenarios) {
    if (s.status === "aborted") blocks.push(`${s.name}: ABORTED: ${s.abortReason}`);
    for (const f of s.groundTruth.faults.filter((x) => x.effect && !x.effect.observed))
      blocks.push(
        [
          `${s.name} fault ${f.id} (${f.kind} on ${f.target}): effect not observed, the scenario is INCONCLUSIVE`,
          `  declared: ${f.effect!.declared}`,
          `  tolerance: ${f.effect!.tolerance}`,
          `  measured: ${f.effect!.detail} ${JSON.stringify(f.effect!.measured)}`,
        ].join("\n"),
      );
    for (const a of s.assertions.filter((x) => x.status === "failed")) {
      blocks.push(
        [
          `${s.name} ${a.id}: ${a.message}`,
          `  expected: ${JSON.stringify(a.expected)}`,
          `  observed: ${JSON.stringify(a.observed)}`,
          ...(a.evidence ? [`  evidence: ${JSON.stringify(a.evidence)}`] : []),
        ].join("\n"),
      );
    }
  }
  return blocks.join("\n");
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
export const listReporter: ReporterFactory = ({ stdout }) => ({
  onRunEnd({ verdict }) {
    stdout.write(`\n${summaryTable(verdict)}\n`);
    const details = failureDetails(verdict);
    if (details) stdout.write(`\n${details}\n`);
    if (verdict.rca) stdout.write(`\n${rcaScoreLine(verdict.rca)}\n`);
    stdout.write(`${wallTimeLine(verdict)}\n\n`);
  },
});
