import type { AssertionResult } from "../evidence";
import { select, sum } from "../metric-query";
import { endpointKey, leftOutReason, tallySpans, type Endpoint, type MetricView, type Tally } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import { HISTOGRAM_PARTS, HYGIENE_ASSERTIONS } from "./ids";

/** The largest finite bucket bound a request-duration histogram in seconds may have (5 minutes). */
const MAX_SECONDS_BOUND = 300;
/** How far the histogram's and the span's timing of one call may differ: 1.25 ms measured at most (see compareSum). */
const SAME_CALL_CLOCK_S = 0.002;

/** One histogram series at the end of the run: its buckets as [le, count], its _count and _sum. */
interface HistogramSeries {
  buckets: [number, number][];
  count?: number;
  sum?: number;
}

/** The calls of one endpoint, operation and code, as the histogram counts them and the spans time them. */
interface TimedCalls {
  /** "payments grpc server grpc_server_handling_seconds{pkg.Payments/Charge|OK}", as findings name the series. */
  where: string;
  service: string;
  id: string;
  /** Calls the histogram counted. */
  n: number;
  /** Span durations, in seconds. */
  durations: number[];
  /** Whether the spans are a sample of the calls (some requests unsampled), not all of them. */
  sampled: boolean;
}

/**
 * Every histogram is consistent in itself (buckets cumulative, +Inf == _count, _sum >= 0) and with what the spans
 * measured for the same calls: per endpoint, operation and code, the run's _sum increase is the spans' summed
 * durations (units included) and each bucket's increase the spans at or below its bound, up to calls whose
 * duration lies so near a bound that the two clocks may put it on either side. Endpoints without a histogram to read
 * (no /metrics, none in the contract, peers named by address) are left out; with none left, not promised.
 */
export function histograms(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const spans = tallySpans(metrics).durations;
  const unsampled = view.requests.some((r) => !r.sampled);
  let compared = 0;
  const { endpoints, leftOut } = metrics.judgeable(["histogram", "peers"]);
  if (endpoints.length === 0 && Object.keys(leftOut).length)
    return notPromised(
      HYGIENE_ASSERTIONS.histograms,
      "hygiene",
      leftOutReason("no endpoint the planned routes cross has a duration histogram to judge", leftOut),
      { leftOut },
    );
  const observed: Record<string, unknown> = Object.keys(leftOut).length ? { leftOut } : {};
  for (const e of endpoints) {
    checkInItself(metrics, e, findings);
    const measured = spans.get(endpointKey(e)) ?? new Map<string, number[]>();
    compared += compareWithSpans(metrics, e, measured, unsampled, findings, observed);
  }
  compareEdgeWithDriver(metrics, findings, observed);
  return verdict(
    HYGIENE_ASSERTIONS.histograms,
    "hygiene",
    findings,
    {
      passed: "every histogram is consistent in itself, with the spans' durations and with the driver's",
      failed: "histograms inconsistent",
    },
    {
      compared,
      minimum: endpoints.length,
      what: "histogram series with calls",
      because: "the endpoints the planned routes cross",
    },
    {
      sumTolerance: `${SAME_CALL_CLOCK_S * 1000} ms per call (a sample: 25% + 5 ms + 4 standard errors of its mean)`,
      buckets: "within calls near the bound + max(2, 5%)",
    },
    observed,
  );
}

/** An endpoint's histogram series at the end of the run, by "operation|code". */
function seriesAtEnd(metrics: MetricView, e: Endpoint): Map<string, HistogramSeries> {
  const series = new Map<string, HistogramSeries>();
  for (const part of HISTOGRAM_PARTS)
    for (const s of select(metrics.end, metrics.select(e, "histogram", part, { probeRoutes: true }))) {
      const id = `${metrics.operationOf(e, s.labels)}|${metrics.codeOf(e, s.labels)}`;
      const entry = series.get(id) ?? { buckets: [] };
      if (part === "_bucket") entry.buckets.push([s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), s.value]);
      else if (part === "_count") entry.count = s.value;
      else entry.sum = s.value;
      series.set(id, entry);
    }
  return series;
}

/** Buckets cumulative, +Inf == _count, _sum >= 0, and bounds in seconds where the name says seconds. */
function checkInItself(metrics: MetricView, e: Endpoint, findings: Findings): void {
  const name = metrics.histogram(e)!.name;
  const key = endpointKey(e);
  for (const [id, h] of seriesAtEnd(metrics, e)) {
    h.buckets.sort((a, b) => a[0] - b[0]);
    const decreasing = h.buckets.findIndex(([, v], i) => i > 0 && v < h.buckets[i - 1]![1]);
    if (decreasing > 0)
      findings.add({
        detail: `${key} ${name}{${id}}: bucket le=${h.buckets[decreasing]![0]} is below the one before it`,
      });
    const inf = h.buckets.at(-1);
    if (!inf || inf[0] !== Infinity || inf[1] !== h.count)
      findings.add({
        detail: `${key} ${name}{${id}}: +Inf bucket ${inf?.[1] ?? "absent"} != _count ${h.count ?? "absent"}`,
      });
    if (!(h.sum !== undefined && h.sum >= 0))
      findings.add({ detail: `${key} ${name}{${id}}: _sum ${h.sum} is not >= 0` });
    // A request-duration histogram in seconds has no use for bounds past minutes: bounds like 5, 10, 25, ... 10000
    // are milliseconds left in a _seconds histogram (every call under the first bound: invisible to the spans).
    const largest = Math.max(...h.buckets.map(([le]) => le).filter(Number.isFinite));
    if (name.endsWith("_seconds") && largest > MAX_SECONDS_BOUND)
      findings.add({
        detail: `${key} ${name}{${id}}: largest bucket bound ${largest} s > ${MAX_SECONDS_BOUND} s: bounds in milliseconds?`,
      });
  }
}

/** The run's _sum and bucket increases against the spans' durations; returns the series compared. */
function compareWithSpans(
  metrics: MetricView,
  e: Endpoint,
  measured: Map<string, number[]>,
  unsampled: boolean,
  findings: Findings,
  observed: Record<string, unknown>,
): number {
  const name = metrics.histogram(e)!.name;
  const key = endpointKey(e);
  const sums = metrics.histogramTally(e, "_sum");
  const buckets = metrics.histogramTally(e, "_bucket");
  let compared = 0;
  for (const [id, n] of metrics.histogramTally(e, "_count")) {
    const durations = measured.get(id);
    if (!(n > 0) || !durations?.length) continue;
    // The spans time the same calls (a few more or fewer where a fault cut calls: their counts are reconciled
    // elsewhere), or a random sample of them when some requests were not sampled.
    const m = durations.length;
    const sampled = unsampled && m < n;
    if (m !== n && !sampled && Math.abs(n - m) > Math.max(2, 0.1 * n)) continue;
    compared++;
    const calls: TimedCalls = { where: `${key} ${name}{${id}}`, service: e.service.name, id, n, durations, sampled };
    const histogramSum = sums.get(id) ?? 0;
    observed[`${key} ${id}`] = {
      calls: n,
      ...(m !== n ? { spans: m } : {}),
      histogramSumSeconds: round(histogramSum),
      spanSumSeconds: round(sum(durations)),
    };
    compareSum(calls, histogramSum, findings);
    compareBuckets(calls, buckets, findings);
  }
  return compared;
}

/** The histogram's _sum against the spans' summed durations (all calls), or their mean (a sample). */
function compareSum(
  { where, service, n, durations, sampled }: TimedCalls,
  histogramSum: number,
  findings: Findings,
): void {
  const m = durations.length;
  const spanSum = sum(durations);
  // Same calls: the histogram's timer and the span's time one call from slightly different points; over 2,482
  // endpoints of ten catalog runs here their sums differed by at most 1.25 ms a call (p99 0.67 ms), so the sums agree
  // within SAME_CALL_CLOCK_S a call; each call on one side only may be as long as the longest span. (The bound was 25%
  // + 5 ms a call, and a few sub-millisecond calls observed 1000x passed it.) A sample: the means agree within 25% +
  // 5 ms plus 4 standard errors of the sample's mean.
  const mean = spanSum / m;
  const sd = Math.sqrt(sum(durations.map((d) => (d - mean) ** 2)) / m);
  const [got, want, tolerance] = sampled
    ? [histogramSum / n, mean, 0.25 * mean + 0.005 + (4 * sd) / Math.sqrt(m)]
    : [histogramSum, spanSum, SAME_CALL_CLOCK_S * n + Math.abs(n - m) * Math.max(...durations)];
  if (Math.abs(got - want) > tolerance)
    findings.add({
      detail: `${where}: _sum rose by ${round(histogramSum)} s over ${n} calls, the ${m} spans measured ${round(spanSum)} s (${sampled ? "per call " : ""}tolerance ${round(tolerance)} s)`,
      expected: `${round(want)} s${sampled ? " a call" : ""} +- ${round(tolerance)} s (its spans' durations)`,
      observed: `${round(got)} s`,
      on: `${where} _sum`,
      service,
    });
}

/** Each bucket's share of the calls against the share of spans at or below its bound. */
function compareBuckets(
  { where, service, id, n, durations, sampled }: TimedCalls,
  buckets: Tally,
  findings: Findings,
): void {
  const m = durations.length;
  for (const [bucketKey, value] of buckets) {
    if (!bucketKey.startsWith(`${id}|`)) continue;
    const le = Number(bucketKey.slice(id.length + 1).replace("+Inf", "Infinity"));
    const below = durations.filter((d) => d <= le).length;
    // The histogram and the span time different stretches of one call (the span may start later or end
    // earlier): calls near a bound may land on either side, and a scheduling pause can move a few more. Shares
    // under the bound are compared: a call on one side only moves them by 1/n, a sample by chance (4 standard
    // deviations).
    const near = durations.filter((d) => Math.abs(d - le) <= Math.max(0.005, 0.1 * le)).length;
    const share = below / m;
    const allowed =
      near / m +
      Math.max(2, Math.ceil(0.05 * n)) / n +
      Math.abs(n - m) / n +
      (sampled ? 4 * Math.sqrt((share * (1 - share)) / m) : 0);
    if (Math.abs(value / n - share) > allowed)
      findings.add({
        detail: `${where} le=${le}: ${value} of ${n} calls under the bound in the histogram, ${below} of ${m} spans (allowed share difference ${round(allowed)}: ${near} near the bound + 5%${sampled ? " + sampling" : ""})`,
        expected: `${below} of ${m} calls under le=${le} (its spans)`,
        observed: `${value} of ${n}`,
        on: where,
        service,
      });
  }
}

/** The edge's server time cannot exceed what the driver waited for the same requests. */
function compareEdgeWithDriver(metrics: MetricView, findings: Findings, observed: Record<string, unknown>): void {
  const { view } = metrics;
  const edge = view.edge;
  if (!edge) return;
  const e = { service: edge, protocol: "http" as const, side: "server" as const };
  if (metrics.unjudgeable(e, ["histogram"])) return;
  const histogramSum = sum(metrics.histogramTally(e, "_sum").values());
  const driverSum = sum(
    view.requests.filter((r) => r.request.status !== 0).map((r) => (r.request.endMs - r.request.startMs) / 1000),
  );
  observed.edge = { histogramSumSeconds: round(histogramSum), driverSumSeconds: round(driverSum) };
  if (histogramSum > driverSum + 0.001 * view.requests.length)
    findings.add({
      detail: `${edge.name} ${metrics.histogram(e)!.name}_sum rose by ${round(histogramSum)} s, more than the driver waited for those requests (${round(driverSum)} s)`,
      expected: `at most ${round(driverSum)} s (what the driver waited)`,
      observed: `${round(histogramSum)} s`,
      on: `${edge.name} ${metrics.histogram(e)!.name}_sum`,
      service: edge.name,
    });
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
