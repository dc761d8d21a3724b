import type { SavedScenario } from "./evidence-file";
import type { ChartSpec } from "./report-charts";
import type { WaterfallTrace } from "./report-traces";
import { scenarioView, type ScenarioView } from "./scenario-view";
import type { Verdict } from "./verdict";

/** What report.html shows: the verdict, a view per scenario, and the data its client script draws. */
export interface ReportModel {
  verdict: Verdict;
  scenarios: ScenarioView[];
  /** What the client script reads: the charts to draw and the traces to lay out. */
  client: { charts: ChartSpec[]; traces: Record<string, WaterfallTrace> };
}

/**
 * What report.html shows, computed from verdict.json and the evidence file: only what the page draws (series binned,
 * traces of failed assertions and RCA windows only), never the whole evidence. Pure.
 */
export function buildReportModel(verdict: Verdict, saved: readonly SavedScenario[]): ReportModel {
  const charts: ChartSpec[] = [];
  const traces: Record<string, WaterfallTrace> = {};
  let n = 0;
  const chartId = () => `chart-${++n}`;
  const scenarios = verdict.scenarios.map((sv) => {
    const view = scenarioView(
      sv,
      saved.find((s) => s.name === sv.name),
      chartId,
      traces,
    );
    for (const chart of [view.outcome, ...view.latency, ...view.runtime]) if (chart) charts.push(chart);
    return view;
  });
  return { verdict, scenarios, client: { charts, traces } };
}
