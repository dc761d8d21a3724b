import type { Evidence, MetricSeries, ServiceInfo } from "../../assertions/evidence";

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
  /** The x range every chart of the scenario shares (its load window); y starts at zero on every chart. */
  xRange?: [number, number];
}

/** Bin width of the outcome and latency charts (RCA judges 1 s buckets too). */
const BIN_MS = 1_000;

/**
 * Colours mean one thing each across the page: green a success (2xx), amber a client error (4xx), red a failure
 * (5xx; also ERROR spans and failed checks), near-black no response, violet an injected fault (the shading), dashed blue
 * an RCA window. Latency percentiles are a blue ramp (darker is higher); services take hues none of those use.
 */
export const STATUS_COLORS: Record<string, string[]> = {
  "2": ["#2e9e5b", "#7cb342", "#00796b"],
  "3": ["#4a90d9"],
  "4": ["#e08a1e", "#b26a00"],
  "5": ["#d0342c", "#8e1b16", "#e57373"],
};
export const NO_RESPONSE_COLOR = "#1d1f23";
const LATENCY_COLORS = { p50: "#74a9cf", p90: "#2b8cbe", p99: "#034e7b" };
export const SERVICE_PALETTE = ["#1f77b4", "#17becf", "#8c564b", "#bcbd22", "#e377c2", "#393b79", "#637939", "#7f7f7f"];

/** Requests per second by status, binned by start time. */
export function outcomeChart(
  evidence: Evidence,
  chartId: () => string,
  shades: ChartSpec["shades"],
): ChartSpec | undefined {
  if (evidence.requests.length === 0) return undefined;
  const { x, binOf } = bins(evidence);
  const statuses = [...new Set(evidence.requests.map((r) => String(r.status)))].sort();
  const counts = new Map(statuses.map((s) => [s, x.map(() => 0)]));
  for (const r of evidence.requests) counts.get(String(r.status))![binOf(r.startMs)]! += 1000 / BIN_MS;
  const used = new Map<string, number>();
  const color = (status: string) => {
    const family = STATUS_COLORS[status[0]!] ?? [status === "0" ? NO_RESPONSE_COLOR : "#4a90d9"];
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
export function latencyCharts(evidence: Evidence, chartId: () => string, shades: ChartSpec["shades"]): ChartSpec[] {
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
        { label: "p50", color: LATENCY_COLORS.p50, values: q(0.5) },
        { label: "p90", color: LATENCY_COLORS.p90, values: q(0.9), dash: true },
        { label: "p99", color: LATENCY_COLORS.p99, values: q(0.99) },
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
  { title: "Heap used", yLabel: "MiB", name: (s) => s.contract.runtimeMetrics?.heapUsedBytes, scale: 1 / 2 ** 20 },
  { title: "Event-loop lag", yLabel: "ms", name: (s) => s.contract.runtimeMetrics?.eventLoopLagSeconds, scale: 1000 },
  { title: "Event-loop utilisation", yLabel: "ratio", name: (s) => s.contract.runtimeMetrics?.eventLoopUtilization },
  { title: "CPU", yLabel: "cores", name: (s) => s.contract.runtimeMetrics?.cpuSecondsTotal, rate: true },
  {
    title: "GC runs",
    yLabel: "per s",
    name: (s) => s.contract.runtimeMetrics && `${s.contract.runtimeMetrics.gcDuration.name}_count`,
    rate: true,
  },
  { title: "Goroutines", yLabel: "count", name: (s) => s.contract.runtimeMetrics?.goroutines },
];

/** One chart per runtime figure some service exposes, a series per service, from the evidence's range series. */
export function runtimeCharts(evidence: Evidence, chartId: () => string, shades: ChartSpec["shades"]): ChartSpec[] {
  const range = evidence.metrics.range;
  const t0 = evidence.window.startMs;
  const out: ChartSpec[] = [];
  for (const gauge of RUNTIME_GAUGES) {
    const perService = evidence.services
      .map((service, i) => {
        const name = gauge.name(service);
        const series = name ? range.filter((s) => s.name === name && ownedBy(service, s)) : [];
        // Only the scenario's own window: a reused mesh's range series reach back into the scenario before it.
        const points = summed(series).filter(([t]) => t * 1000 >= t0 && t * 1000 <= evidence.window.endMs);
        return { service, color: SERVICE_PALETTE[i % SERVICE_PALETTE.length]!, points };
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
          // A counter below its previous sample restarted (a killed or restarted process): the line breaks there.
          const prev = i > 0 ? at.get(times[i - 1]!) : undefined;
          return prev === undefined || v < prev ? null : round((v - prev) / (t - times[i - 1]!), 4);
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

/** `v` rounded to `digits` decimals: what the page shows and the JSON it inlines holds. */
export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
