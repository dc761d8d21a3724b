import type { AssertionResult, Evidence, MetricSeries, RequestRecord, ServiceInfo } from "../../assertions/evidence";
import { RcaContext, suspectKey, type RcaResult, type RcaWindow, type Suspect } from "../../assertions/rca";
import { indexTrace } from "../../assertions/trace-index";
import type { Span, Trace } from "../../assertions/trace-model";
import type { SavedScenario } from "./evidence-file";
import type { ScenarioVerdict, Verdict } from "./verdict";

/**
 * What report.html shows, computed from verdict.json and evidence.json: only what the page draws (series binned,
 * traces of failed assertions and RCA windows only), never the whole evidence. Pure.
 */

/** A chart the page draws with uPlot. Times are seconds since the scenario's load start. */
export interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  x: number[];
  series: { label: string; color: string; values: (number | null)[]; dash?: boolean }[];
  /** Shaded spans of x: fault windows (from the journal) and RCA windows (detected). */
  shades: { from: number; to: number; label: string; kind: "fault" | "window" }[];
  /** Step lines for rates per bin; lines with points for percentiles and gauges. */
  kind: "step" | "line";
}

/** One span row of a waterfall: [depth, service, name, kind, startUs (from the trace start), durationUs, error, code, highlighted]. */
export type WaterfallRow = [number, string, string, string, number, number, 0 | 1, string, 0 | 1];

export interface WaterfallTrace {
  traceId: string;
  totalUs: number;
  rows: WaterfallRow[];
}

/** A request the page lists (a failed assertion's evidence, an RCA exemplar). */
export interface RequestRow {
  id: string;
  traceId: string;
  route: string;
  status: number;
  /** Since the scenario's load start. */
  startS: number;
  latencyMs: number;
  error?: string;
}

/** One lane of the probe timeline: a service's probe, as runs of one status. */
export interface ProbeLane {
  service: string;
  probe: string;
  /** [fromS, toS, status] */
  runs: [number, number, number][];
  /** Status changes, with the latency the readiness-flip assertion measured when it judged this one. */
  flips: { atS: number; to: number; label: string; detail?: string }[];
}

/** A reconciliation table: rows of "operation|code", one column per record compared. */
export interface ReconTable {
  assertion: string;
  status: AssertionResult["status"];
  title: string;
  columns: string[];
  rows: { key: string; values: (number | null)[]; mismatch: boolean }[];
}

export interface FailedAssertionView {
  result: AssertionResult;
  requests: RequestRow[];
  /** Trace ids to draw (in data.traces) and named ones the evidence does not hold. */
  traces: string[];
  missingTraces: string[];
}

export interface RcaWindowView {
  window: RcaWindow;
  fromS: number;
  toS: number;
  /** One trace of the window showing the first suspect (its spans highlighted), when the evidence has one. */
  exemplar?: { request: RequestRow; traceId: string };
}

export interface ScenarioView {
  verdict: ScenarioVerdict;
  /** Absent when the scenario was aborted before evidence was collected. */
  hasEvidence: boolean;
  failed: FailedAssertionView[];
  outcome?: ChartSpec;
  latency: ChartSpec[];
  runtime: ChartSpec[];
  probes: { lanes: ProbeLane[]; fromS: number; toS: number; faults: ChartSpec["shades"] };
  recon: ReconTable[];
  rca?: { windows: RcaWindowView[]; notes: string[] };
}

export interface ReportModel {
  verdict: Verdict;
  scenarios: ScenarioView[];
  /** What the client script reads: the charts to draw and the traces to lay out. */
  client: { charts: ChartSpec[]; traces: Record<string, WaterfallTrace> };
}

/** Bin width of the outcome and latency charts (RCA judges 1 s buckets too). */
const BIN_MS = 1_000;
/** Traces drawn per failed assertion. */
const TRACES_PER_ASSERTION = 5;
/** Requests listed per failed assertion. */
const REQUESTS_PER_ASSERTION = 20;

const STATUS_COLORS: Record<string, string[]> = {
  "2": ["#2e9e5b", "#8bc34a", "#00796b"],
  "3": ["#4a90d9"],
  "4": ["#e08a1e", "#c77c00"],
  "5": ["#d0342c", "#8e1b16", "#e57373"],
};
const PALETTE = ["#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00"];

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

function scenarioView(
  verdict: ScenarioVerdict,
  saved: SavedScenario | undefined,
  chartId: () => string,
  traces: Record<string, WaterfallTrace>,
): ScenarioView {
  const recon = reconciliation(verdict.assertions);
  const evidence = saved?.evidence;
  if (!evidence) {
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
  const t0 = evidence.window.startMs;
  const rel = (ms: number) => round((ms - t0) / 1000, 3);
  const faultShades: ChartSpec["shades"] = evidence.faults.map((f) => ({
    from: rel(f.appliedAtMs),
    to: rel(f.revertedAtMs ?? evidence.window.endMs),
    label: `${f.kind} ${f.target}`,
    kind: "fault",
  }));
  const rca = verdict.rca;
  const windowShades: ChartSpec["shades"] = (rca?.windows ?? []).map((w) => ({
    from: rel(w.startMs),
    to: rel(w.endMs),
    label: `RCA window ${w.route}`,
    kind: "window",
  }));
  const shades = [...faultShades, ...windowShades];
  const byRequestId = new Map(evidence.requests.map((r) => [r.id, r]));
  const byTraceId = new Map(evidence.requests.map((r) => [r.traceId, r]));
  const namer = new RcaContext(evidence, saved.expectations.topology);
  const addTrace = (traceId: string, highlight?: Suspect): boolean => {
    const trace = evidence.traces[traceId];
    if (!trace || trace.spans.length === 0) return false;
    const key = highlight ? `${traceId}:${suspectKey(highlight)}` : traceId;
    traces[key] ??= waterfall(trace, byTraceId.get(traceId), namer, highlight);
    return true;
  };
  const requestRow = (r: RequestRecord): RequestRow => ({
    id: r.id,
    traceId: r.traceId,
    route: r.route,
    status: r.status,
    startS: rel(r.startMs),
    latencyMs: r.endMs - r.startMs,
    ...(r.error ? { error: r.error } : {}),
  });

  const failed = verdict.assertions
    .filter((a) => a.status === "failed")
    .map((result): FailedAssertionView => {
      const named = result.evidence ?? {};
      const requests = (named.requestIds ?? []).map((id) => byRequestId.get(id)).filter((r) => r !== undefined);
      const traceIds = [...new Set([...(named.traceIds ?? []), ...requests.map((r) => r.traceId).filter(Boolean)])];
      for (const id of named.traceIds ?? []) {
        const r = byTraceId.get(id);
        if (r && !requests.includes(r)) requests.push(r);
      }
      const drawn: string[] = [];
      const missing: string[] = [];
      for (const id of traceIds) {
        if (drawn.length >= TRACES_PER_ASSERTION) break;
        if (addTrace(id)) drawn.push(id);
        else missing.push(id);
      }
      return {
        result,
        requests: requests.slice(0, REQUESTS_PER_ASSERTION).map(requestRow),
        traces: drawn,
        missingTraces: missing,
      };
    });

  return {
    verdict,
    hasEvidence: true,
    failed,
    outcome: outcomeChart(evidence, chartId, shades),
    latency: latencyCharts(evidence, chartId, shades),
    runtime: runtimeCharts(evidence, chartId, shades),
    probes: probeLanes(evidence, verdict.assertions, rel, faultShades),
    recon,
    rca: rca && {
      notes: rca.notes,
      windows: rca.windows.map((w) => {
        const view: RcaWindowView = { window: w, fromS: rel(w.startMs), toS: rel(w.endMs) };
        const top = w.suspects[0];
        const exemplar = top ? exemplarRequest(evidence, w) : undefined;
        if (top && exemplar && addTrace(exemplar.traceId, top)) {
          view.exemplar = { request: requestRow(exemplar), traceId: `${exemplar.traceId}:${suspectKey(top)}` };
        }
        return view;
      }),
    },
  };
}

/** A failed request of an error window, or the slowest request of a p99 window, that has a trace. */
function exemplarRequest(evidence: Evidence, w: RcaWindow): RequestRecord | undefined {
  const inWindow = evidence.requests.filter(
    (r) => r.route === w.route && r.startMs >= w.startMs && r.startMs < w.endMs && evidence.traces[r.traceId],
  );
  if (w.signals.includes("error-rate")) {
    const failedOne = inWindow.find((r) => r.status < 200 || r.status >= 400);
    if (failedOne) return failedOne;
  }
  return inWindow.sort((a, b) => b.endMs - b.startMs - (a.endMs - a.startMs))[0];
}

/** Requests per second by status, binned by start time. */
function outcomeChart(evidence: Evidence, chartId: () => string, shades: ChartSpec["shades"]): ChartSpec | undefined {
  if (evidence.requests.length === 0) return undefined;
  const { x, binOf } = bins(evidence);
  const statuses = [...new Set(evidence.requests.map((r) => String(r.status)))].sort();
  const counts = new Map(statuses.map((s) => [s, x.map(() => 0)]));
  for (const r of evidence.requests) counts.get(String(r.status))![binOf(r.startMs)]! += 1000 / BIN_MS;
  const used = new Map<string, number>();
  const color = (status: string) => {
    const family = STATUS_COLORS[status[0]!] ?? [status === "0" ? "#555555" : "#990099"];
    const i = used.get(status[0]!) ?? 0;
    used.set(status[0]!, i + 1);
    return family[i % family.length]!;
  };
  return {
    id: chartId(),
    title: "Outcomes: requests per second by status",
    yLabel: "req/s",
    x,
    kind: "step",
    shades,
    series: statuses.map((status) => ({
      label: status === "0" ? "no response" : status,
      color: color(status),
      values: counts.get(status)!,
    })),
  };
}

/** p50, p90, p99 latency per route over time, by start-time bin. */
function latencyCharts(evidence: Evidence, chartId: () => string, shades: ChartSpec["shades"]): ChartSpec[] {
  if (evidence.requests.length === 0) return [];
  const { x, binOf } = bins(evidence);
  const routes = [...new Set(evidence.requests.map((r) => r.route))].sort();
  return routes.map((route) => {
    const perBin = x.map((): number[] => []);
    for (const r of evidence.requests) if (r.route === route) perBin[binOf(r.startMs)]!.push(r.endMs - r.startMs);
    for (const b of perBin) b.sort((a, c) => a - c);
    const routeShades = shades.filter((s) => s.kind === "fault" || s.label === `RCA window ${route}`);
    const q = (p: number) =>
      perBin.map((b) => (b.length === 0 ? null : b[Math.min(b.length - 1, Math.ceil(p * b.length) - 1)]!));
    return {
      id: chartId(),
      title: `Latency: ${route}`,
      yLabel: "ms",
      x,
      kind: "line",
      shades: routeShades,
      series: [
        { label: "p50", color: "#3366cc", values: q(0.5) },
        { label: "p90", color: "#ff9900", values: q(0.9), dash: true },
        { label: "p99", color: "#dc3912", values: q(0.99) },
      ],
    } satisfies ChartSpec;
  });
}

function bins(evidence: Evidence): { x: number[]; binOf: (ms: number) => number } {
  const t0 = evidence.window.startMs;
  const first = Math.min(0, ...evidence.requests.map((r) => Math.floor((r.startMs - t0) / BIN_MS)));
  const last = Math.max(...evidence.requests.map((r) => Math.floor((r.startMs - t0) / BIN_MS)));
  const x: number[] = [];
  for (let b = first; b <= last; b++) x.push(round(((b + 0.5) * BIN_MS) / 1000, 3));
  return { x, binOf: (ms) => Math.floor((ms - t0) / BIN_MS) - first };
}

/** The runtime figures the page charts, by each service's contract (a gauge, or the rate of a counter). */
const RUNTIME_GAUGES: {
  title: string;
  yLabel: string;
  name: (s: ServiceInfo) => string | undefined;
  rate?: boolean;
  scale?: number;
}[] = [
  { title: "Heap used", yLabel: "MiB", name: (s) => s.contract.runtimeMetrics.heapUsedBytes, scale: 1 / 2 ** 20 },
  { title: "Event-loop lag", yLabel: "ms", name: (s) => s.contract.runtimeMetrics.eventLoopLagSeconds, scale: 1000 },
  { title: "Event-loop utilisation", yLabel: "ratio", name: (s) => s.contract.runtimeMetrics.eventLoopUtilization },
  { title: "CPU", yLabel: "cores", name: (s) => s.contract.runtimeMetrics.cpuSecondsTotal, rate: true },
  { title: "GC runs", yLabel: "per s", name: (s) => `${s.contract.runtimeMetrics.gcDuration.name}_count`, rate: true },
  { title: "Goroutines", yLabel: "count", name: (s) => s.contract.runtimeMetrics.goroutines },
];

function runtimeCharts(evidence: Evidence, chartId: () => string, shades: ChartSpec["shades"]): ChartSpec[] {
  const range = evidence.metrics.range;
  const t0 = evidence.window.startMs;
  const out: ChartSpec[] = [];
  for (const gauge of RUNTIME_GAUGES) {
    const perService = evidence.services
      .map((service, i) => {
        const name = gauge.name(service);
        const series = name ? range.filter((s) => s.name === name && ownedBy(service, s)) : [];
        return { service, color: PALETTE[i % PALETTE.length]!, points: summed(series) };
      })
      .filter((p) => p.points.length > 0);
    if (perService.length === 0) continue;
    const times = [...new Set(perService.flatMap((p) => p.points.map(([t]) => t)))].sort((a, b) => a - b);
    out.push({
      id: chartId(),
      title: gauge.title,
      yLabel: gauge.yLabel,
      x: times.map((t) => round(t - t0 / 1000, 3)),
      kind: "line",
      shades,
      series: perService.map(({ service, color, points }) => {
        const at = new Map(points);
        const values = times.map((t, i): number | null => {
          const v = at.get(t);
          if (v === undefined) return null;
          if (!gauge.rate) return round(v * (gauge.scale ?? 1), 4);
          const prev = i > 0 ? at.get(times[i - 1]!) : undefined;
          return prev === undefined ? null : round(Math.max(0, v - prev) / (t - times[i - 1]!), 4);
        });
        return { label: service.name, color, values };
      }),
    });
  }
  return out;
}

function ownedBy(service: ServiceInfo, series: MetricSeries): boolean {
  return series.labels[service.contract.labels.instance] === service.instance;
}

/** Series of one name (e.g. GC counts by kind) summed per timestamp. */
function summed(series: readonly MetricSeries[]): [number, number][] {
  const byT = new Map<number, number>();
  for (const s of series) for (const [t, v] of s.values) byT.set(t, (byT.get(t) ?? 0) + v);
  return [...byT].sort(([a], [b]) => a - b);
}

/** Lanes of the probe timeline; flips labelled with the readiness-flip assertion's measured latency. */
function probeLanes(
  evidence: Evidence,
  assertions: readonly AssertionResult[],
  rel: (ms: number) => number,
  faults: ChartSpec["shades"],
): ScenarioView["probes"] {
  const lanes = new Map<string, ProbeLane>();
  const sorted = [...evidence.probes].sort((a, b) => a.atMs - b.atMs);
  for (const p of sorted) {
    const key = `${p.service} ${p.probe}`;
    let lane = lanes.get(key);
    if (!lane) {
      lane = { service: p.service, probe: p.probe, runs: [], flips: [] };
      lanes.set(key, lane);
    }
    const at = rel(p.atMs);
    const run = lane.runs.at(-1);
    if (run && run[2] === p.status) run[1] = at;
    else {
      if (run) {
        run[1] = at;
        lane.flips.push({ atS: at, to: p.status, label: `${run[2]} -> ${p.status}` });
      }
      lane.runs.push([at, at, p.status]);
    }
  }
  // "orders /readyz redis (orders-redis)": { flipMs, recoverMs } -> the lane's first flip away from 200 and back.
  const observedFlips = assertions
    .filter((a) => a.id === "probes.readiness-flip" || a.id === "probes.liveness-flip")
    .flatMap((a) => Object.entries(a.observed ?? {}).map(([key, value]) => ({ id: a.id, key, value })));
  for (const { id, key, value } of observedFlips) {
    const m = /^(\S+) \/(\S+) (\S+) \((.+)\)$/.exec(key);
    if (!m || typeof value !== "object" || value === null) continue;
    const [, service, probe, check, target] = m as unknown as [string, string, string, string, string];
    const { flipMs, recoverMs } = value as { flipMs?: number; recoverMs?: number };
    const lane = lanes.get(`${service} ${probe}`);
    const fault = evidence.faults.find((f) => f.target === target);
    if (!lane || !fault) continue;
    const down = lane.flips.find((f) => f.to !== 200 && f.atS >= rel(fault.appliedAtMs));
    if (down && typeof flipMs === "number") {
      down.label = `${check} +${flipMs} ms`;
      down.detail = `/${probe} answered ${check}: flipped ${flipMs} ms after the fault on ${target} (${id})`;
    }
    const up = lane.flips.find((f) => f.to === 200 && down && f.atS > down.atS);
    if (up && typeof recoverMs === "number") {
      up.label = `ok +${recoverMs} ms`;
      up.detail = `/${probe} answered 200 again ${recoverMs} ms after ${target} was restored (${id})`;
    }
  }
  const all = [...lanes.values()].sort((a, b) => a.service.localeCompare(b.service) || a.probe.localeCompare(b.probe));
  const from = Math.min(...all.map((l) => l.runs[0]?.[0] ?? 0));
  const to = Math.max(...all.map((l) => l.runs.at(-1)?.[1] ?? 0));
  return { lanes: all, fromS: all.length ? from : 0, toS: all.length ? to : 0, faults };
}

/** The reconciliation tables: driver vs counter vs spans at the edge, server vs client per hop, spans vs counters. */
function reconciliation(assertions: readonly AssertionResult[]): ReconTable[] {
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

/** A trace as waterfall rows: depth-first from its roots, siblings by start time; spans of the suspect highlighted. */
function waterfall(
  trace: Trace,
  request: RequestRecord | undefined,
  namer: RcaContext,
  highlight?: Suspect,
): WaterfallTrace {
  const index = indexTrace(trace, request?.parentSpanId, namer.edge?.name);
  const reader = namer.reader;
  const start = Math.min(...trace.spans.map((s) => s.startTimeUs));
  const end = Math.max(...trace.spans.map((s) => s.startTimeUs + s.durationUs));
  const rows: WaterfallRow[] = [];
  const wanted = highlight && suspectKey(highlight);
  const marked = (s: Span): boolean => wanted !== undefined && suspectKey(namer.identify(s, index)) === wanted;
  const visit = (s: Span, depth: number) => {
    rows.push([
      depth,
      s.service,
      s.name,
      s.kind,
      s.startTimeUs - start,
      s.durationUs,
      s.status === "error" ? 1 : 0,
      reader.code(s) ?? "",
      marked(s) ? 1 : 0,
    ]);
    const children = [...(index.children.get(s.spanId) ?? [])].sort((a, b) => a.startTimeUs - b.startTimeUs);
    for (const c of children) visit(c, depth + 1);
  };
  for (const root of [...index.roots, ...index.orphans].sort((a, b) => a.startTimeUs - b.startTimeUs)) visit(root, 0);
  return { traceId: trace.traceId, totalUs: Math.max(1, end - start), rows };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The RCA of a scenario as the report reads it (verdict field, or computed when an older verdict has none). */
export type ScenarioRca = RcaResult;
