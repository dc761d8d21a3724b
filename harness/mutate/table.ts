import type { MutationReport } from "./engine";

/** The kill rate `npm run mutate` holds the judge to. */
export const MUTATION_TARGET = 0.95;

/** n of `of` as a percentage with one decimal; "-" of nothing. */
export function percent(n: number, of: number): string {
  return of ? `${((n / of) * 100).toFixed(1)}%` : "-";
}

/**
 * The report as a table: one row per operator (margin operators marked), one per family, one per scope (wholesale
 * and margin kill rates apart), and the total.
 */
export function mutationTable(report: MutationReport): string {
  const rows: string[][] = [["operator", "family", "mutants", "killed", "survived", "target id"]];
  for (const [name, t] of Object.entries(report.byOperator))
    rows.push([
      t.scope === "margin" ? `${name} (margin)` : name,
      t.family,
      String(t.mutants),
      String(t.killed),
      String(t.survived),
      t.killedBy,
    ]);
  rows.push(["", "", "", "", "", ""]);
  for (const [group, tallies] of [
    ["family", report.byFamily],
    ["scope", report.byScope],
  ] as const)
    for (const [name, t] of Object.entries(tallies))
      rows.push([
        `${group} ${name}`,
        "",
        String(t.mutants),
        String(t.killed),
        String(t.survived),
        percent(t.killed, t.mutants),
      ]);
  rows.push([
    "total",
    "",
    String(report.total.mutants),
    String(report.total.killed),
    String(report.total.survived),
    percent(report.total.killed, report.total.mutants),
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
