import type { AssertionResult } from "../../assertions/evidence";

/** A reconciliation table: rows of "operation|code", one column per record compared. */
export interface ReconTable {
  assertion: string;
  status: AssertionResult["status"];
  title: string;
  columns: string[];
  rows: { key: string; values: (number | null)[]; mismatch: boolean }[];
}

/** The reconciliation tables: driver vs counter vs spans at the edge, server vs client per hop, spans vs counters. */
export function reconciliation(assertions: readonly AssertionResult[]): ReconTable[] {
  const tables: ReconTable[] = [];
  const find = (id: string) => assertions.find((a) => a.id === id);
  const edge = find("metrics.edge-status-counts");
  const spanCounter = find("metrics.span-counter-agreement");
  if (edge) {
    const driver = tally(edge.expected.driver);
    const counter = tally(edge.observed.counter);
    const edgeSpans = Object.entries(spanCounter?.observed ?? {}).find(([k]) => k.endsWith(" http server"));
    const spans = edgeSpans ? tally((edgeSpans[1] as Record<string, unknown>).spans) : undefined;
    tables.push(
      table(edge, "Edge: driver vs counter vs traces, by route and status", {
        driver,
        counter,
        ...(spans ? { "traces (edge spans)": spans } : {}),
      }),
    );
  }
  const hops = find("metrics.hop-agreement");
  if (hops) {
    for (const [hop, sides] of Object.entries(hops.observed)) {
      if (typeof sides !== "object" || sides === null) continue;
      const s = sides as Record<string, unknown>;
      tables.push(
        table(hops, `Hop ${hop}: server vs client counter`, { server: tally(s.server), client: tally(s.client) }),
      );
    }
  }
  if (spanCounter) {
    for (const [endpoint, pair] of Object.entries(spanCounter.observed)) {
      if (typeof pair !== "object" || pair === null) continue;
      const p = pair as Record<string, unknown>;
      tables.push(
        table(spanCounter, `Endpoint ${endpoint}: spans vs counter`, {
          spans: tally(p.spans),
          counter: tally(p.counter),
        }),
      );
    }
  }
  return tables;
}

function tally(value: unknown): Record<string, number> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number"));
}

function table(assertion: AssertionResult, title: string, columns: Record<string, Record<string, number>>): ReconTable {
  const names = Object.keys(columns);
  const keys = [...new Set(names.flatMap((n) => Object.keys(columns[n]!)))].sort();
  return {
    assertion: assertion.id,
    status: assertion.status,
    title,
    columns: names,
    rows: keys.map((key) => {
      const values = names.map((n) => columns[n]![key] ?? null);
      return { key, values, mismatch: new Set(values.map((v) => v ?? 0)).size > 1 };
    }),
  };
}
