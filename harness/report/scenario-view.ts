import type { AssertionResult, Evidence, RequestRecord } from "../../assertions/evidence";
import { RcaContext, suspectKey, type RcaResult, type RcaWindow, type Suspect } from "../../assertions/rca";
import type { SavedScenario } from "./evidence-file";
import { probeLanes, type ProbeTimeline } from "./probe-timeline";
import { reconciliation, type ReconTable } from "./reconciliation-tables";
import { latencyCharts, outcomeChart, round, runtimeCharts, type ChartSpec } from "./report-charts";
import {
  exemplarRequest,
  logsByTrace,
  requestRow,
  waterfall,
  type RequestRow,
  type WaterfallTrace,
} from "./report-traces";
import type { ScenarioVerdict } from "./verdict";

/** A failed assertion as the page lays it out: the requests and traces its evidence names. */
export interface FailedAssertionView {
  result: AssertionResult;
  requests: RequestRow[];
  /** Trace ids to draw (in data.traces) and named ones the evidence does not hold. */
  traces: string[];
  missingTraces: string[];
}

/** An RCA window in seconds since the scenario's load start. */
export interface RcaWindowView {
  window: RcaWindow;
  fromS: number;
  toS: number;
  /** One trace of the window showing the first suspect (its spans highlighted), when the evidence has one. */
  exemplar?: { request: RequestRow; traceId: string };
}

/** What the page shows of one scenario. */
export interface ScenarioView {
  verdict: ScenarioVerdict;
  /** Absent when the scenario was aborted before evidence was collected. */
  hasEvidence: boolean;
  failed: FailedAssertionView[];
  outcome?: ChartSpec;
  latency: ChartSpec[];
  runtime: ChartSpec[];
  probes: ProbeTimeline;
  recon: ReconTable[];
  rca?: { windows: RcaWindowView[]; notes: string[] };
}

/** The RCA of a scenario as the report reads it (verdict field, or computed when an older verdict has none). */
export type ScenarioRca = RcaResult;

/** Traces drawn per failed assertion. */
const TRACES_PER_ASSERTION = 5;
/** Requests listed per failed assertion. */
const REQUESTS_PER_ASSERTION = 20;

/**
 * The view of one scenario. `chartId` numbers the page's charts; the traces the view draws are laid out into
 * `traces`, which the whole page shares.
 */
export function scenarioView(
  verdict: ScenarioVerdict,
  saved: SavedScenario | undefined,
  chartId: () => string,
  traces: Record<string, WaterfallTrace>,
): ScenarioView {
  const recon = reconciliation(verdict.assertions);
  if (!saved?.evidence) return withoutEvidence(verdict, recon);
  const { evidence } = saved;
  const scope = scenarioScope(saved, traces);
  const faults = faultShades(evidence, scope.rel);
  const shades = [...faults, ...windowShades(verdict.rca, scope.rel)];
  // Every chart of a scenario on one time axis: its load window, so faults line up by eye.
  const xRange: [number, number] = [0, scope.rel(evidence.window.endMs)];
  const ranged = <C extends ChartSpec | undefined>(chart: C): C => (chart ? { ...chart, xRange } : chart);
  return {
    verdict,
    hasEvidence: true,
    failed: failedAssertionViews(verdict.assertions, scope),
    outcome: ranged(outcomeChart(evidence, chartId, shades)),
    latency: latencyCharts(evidence, chartId, shades).map(ranged),
    runtime: runtimeCharts(evidence, chartId, shades).map(ranged),
    probes: probeLanes(evidence, verdict.assertions, scope.rel, faults),
    recon,
    rca: verdict.rca && rcaView(verdict.rca, scope),
  };
}

/** A scenario without evidence: its failed assertions, every trace they name missing. */
function withoutEvidence(verdict: ScenarioVerdict, recon: ReconTable[]): ScenarioView {
  return {
    verdict,
    hasEvidence: false,
    failed: verdict.assertions
      .filter((a) => a.status === "failed")
      .map((result) => ({ result, requests: [], traces: [], missingTraces: result.evidence?.traceIds ?? [] })),
    latency: [],
    runtime: [],
    probes: { lanes: [], fromS: 0, toS: 0, faults: [] },
    recon,
  };
}

/** What the views of a scenario with evidence share. */
interface Scope {
  evidence: Evidence;
  /** Epoch ms as seconds since the scenario's load start. */
  rel: (ms: number) => number;
  byRequestId: Map<string, RequestRecord>;
  byTraceId: Map<string, RequestRecord>;
  /** Lays a trace out into the page's traces (once per trace and suspect); false when the evidence has no span of it. */
  addTrace: (traceId: string, highlight?: Suspect) => boolean;
}

function scenarioScope(saved: SavedScenario, traces: Record<string, WaterfallTrace>): Scope {
  const { evidence } = saved;
  const t0 = evidence.window.startMs;
  const byRequestId = new Map(evidence.requests.map((r) => [r.id, r]));
  const byTraceId = new Map(evidence.requests.map((r) => [r.traceId, r]));
  const namer = new RcaContext(evidence, saved.expectations.topology);
  let logs: Map<string, [string, string][]> | undefined;
  return {
    evidence,
    rel: (ms) => round((ms - t0) / 1000, 3),
    byRequestId,
    byTraceId,
    addTrace: (traceId, highlight) => {
      const trace = evidence.traces[traceId];
      if (!trace || trace.spans.length === 0) return false;
      const key = highlight ? `${traceId}:${suspectKey(highlight)}` : traceId;
      logs ??= logsByTrace(evidence);
      traces[key] ??= waterfall(trace, byTraceId.get(traceId), namer, highlight, logs.get(traceId));
      return true;
    },
  };
}

/** The journaled faults as shaded spans; one never reverted lasts to the end of the evidence window. */
function faultShades(evidence: Evidence, rel: (ms: number) => number): ChartSpec["shades"] {
  return evidence.faults.map((f) => ({
    from: rel(f.appliedAtMs),
    to: rel(f.revertedAtMs ?? evidence.window.endMs),
    label: `${f.kind} ${f.target}`,
    kind: "fault",
  }));
}

/** The windows RCA detected as shaded spans; a latency chart shows those of its route only (by this label). */
function windowShades(rca: RcaResult | undefined, rel: (ms: number) => number): ChartSpec["shades"] {
  return (rca?.windows ?? []).map((w) => ({
    from: rel(w.startMs),
    to: rel(w.endMs),
    label: `RCA window ${w.route}`,
    kind: "window",
  }));
}

/** Each failed assertion with the requests and traces its evidence names, the first few traces laid out. */
function failedAssertionViews(assertions: readonly AssertionResult[], scope: Scope): FailedAssertionView[] {
  return assertions
    .filter((a) => a.status === "failed")
    .map((result): FailedAssertionView => {
      const named = result.evidence ?? {};
      const requests = (named.requestIds ?? []).map((id) => scope.byRequestId.get(id)).filter((r) => r !== undefined);
      const traceIds = [...new Set([...(named.traceIds ?? []), ...requests.map((r) => r.traceId).filter(Boolean)])];
      for (const id of named.traceIds ?? []) {
        const r = scope.byTraceId.get(id);
        if (r && !requests.includes(r)) requests.push(r);
      }
      const drawn: string[] = [];
      const missing: string[] = [];
      for (const id of traceIds) {
        if (drawn.length >= TRACES_PER_ASSERTION) break;
        if (scope.addTrace(id)) drawn.push(id);
        else missing.push(id);
      }
      return {
        result,
        requests: requests.slice(0, REQUESTS_PER_ASSERTION).map((r) => requestRow(r, scope.rel)),
        traces: drawn,
        missingTraces: missing,
      };
    });
}

/** The RCA windows, each with an exemplar trace that highlights its first suspect when the evidence has one. */
function rcaView(rca: RcaResult, scope: Scope): NonNullable<ScenarioView["rca"]> {
  return {
    notes: rca.notes,
    windows: rca.windows.map((w) => {
      const view: RcaWindowView = { window: w, fromS: scope.rel(w.startMs), toS: scope.rel(w.endMs) };
      const top = w.suspects[0];
      const exemplar = top ? exemplarRequest(scope.evidence, w) : undefined;
      if (top && exemplar && scope.addTrace(exemplar.traceId, top)) {
        view.exemplar = {
          request: requestRow(exemplar, scope.rel),
          traceId: `${exemplar.traceId}:${suspectKey(top)}`,
        };
      }
      return view;
    }),
  };
}
