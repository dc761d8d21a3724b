import { BINOMIAL_CONFIDENCE, populationRange } from "../binomial";
import { DRIVER_TICK_MS, type AssertionResult } from "../evidence";
import { faultSignature } from "../faults";
import { select, sum } from "../metric-query";
import { endpointKey, leftOutReason, tallySpans, type Endpoint, type MetricView } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import { HISTOGRAM_PARTS, HYGIENE_ASSERTIONS } from "./ids";

/** The largest finite bucket bound a request-duration histogram in seconds may have (5 minutes). */
const MAX_SECONDS_BOUND = 300;
/**
 * How far the histogram's and the span's timing of one call may differ: their sums differed by 1.25 ms a call at most
 * (see compareSum), and over 32,279 buckets of ten catalog runs a call that close to a bound was on the other side of
 * it in 2,932 buckets, by 1.41 ms at the 99th percentile.
 */
const SAME_CALL_CLOCK_S = 0.002;
/**
 * Calls of one series a scheduling pause between the two timers may move further than SAME_CALL_CLOCK_S: over those
 * buckets, 11 had one such call (at most 11.6 ms off, under saturation), none two, and no series more than one.
 */
const PAUSED_CALLS = 1;
/**
 * How far a pause may move that one call: 11.6 ms at most in those buckets; in containers one series of 13 calls
 * fell 27.5 ms short of its spans in its _sum (one run of 16 of process-freeze; 0.07 ms a call at most in the others).
 * Any unit slip moves a call further: x1000 turns the shortest calls here (0.1 ms) into 100 ms.
 */
const PAUSE_S = 0.05;

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
  /** Durations of the spans begun in a thaw's catch-up, in seconds. */
  thawCaught: number[];
  /** The histogram's _sum and its buckets' counts as [le, count], at the end of the run. */
  histogramSum: number;
  buckets: [number, number][];
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
  const { durations: spans, startsMs } = tallySpans(metrics);
  const unsampled = view.requests.some((r) => !r.sampled);
  const { endpoints, leftOut } = metrics.judgeable(["histogram", "peers"]);
  if (endpoints.length === 0 && Object.keys(leftOut).length)
    return notPromised(
      HYGIENE_ASSERTIONS.histograms,
      "hygiene",
      leftOutReason("no endpoint the planned routes cross has a duration histogram to judge", leftOut),
      { leftOut },
    );
  const observed: Record<string, unknown> = Object.keys(leftOut).length ? { leftOut } : {};
  const timed = endpoints.flatMap((e) => {
    checkInItself(metrics, e, findings);
    const key = endpointKey(e);
    const thawed = (id: string) =>
      thawCaught(metrics, e, startsMs.get(key)?.get(id) ?? [], spans.get(key)?.get(id) ?? []);
    return timedCalls(metrics, e, spans.get(key) ?? new Map<string, number[]>(), thawed, unsampled, observed);
  });
  // Each bucket of a sample that holds some of its calls but not all is a chance draw (one holding all or none shows
  // the same in any sample): the run's draws share BINOMIAL_CONFIDENCE's chance of a false failure.
  const draws = sum(timed.filter((c) => c.sampled).map((c) => c.buckets.filter(([, v]) => v > 0 && v < c.n).length));
  const confidence = 1 - (1 - BINOMIAL_CONFIDENCE) / Math.max(1, draws);
  for (const calls of timed) {
    compareSum(calls, findings);
    compareBuckets(calls, findings, confidence);
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
      compared: timed.length,
      minimum: endpoints.length,
      what: "histogram series with calls",
      because: "the endpoints the planned routes cross",
    },
    {
      sumTolerance: `${SAME_CALL_CLOCK_S * 1000} ms per call + ${PAUSE_S * 1000} ms for ${PAUSED_CALLS} paused call (a sample: 25% + 5 ms + 4 standard errors of its mean)`,
      buckets: `spans under the bound -+ ${SAME_CALL_CLOCK_S * 1000} ms, ${PAUSED_CALLS} paused call, and above it the calls a thaw caught (a sample: its exact hypergeometric range at ${BINOMIAL_CONFIDENCE} for all of the run's buckets)`,
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

/** An endpoint's series with calls, each with the spans that timed them: the series compared. */
function timedCalls(
  metrics: MetricView,
  e: Endpoint,
  measured: Map<string, number[]>,
  thawed: (id: string) => number[],
  unsampled: boolean,
  observed: Record<string, unknown>,
): TimedCalls[] {
  const name = metrics.histogram(e)!.name;
  const key = endpointKey(e);
  const sums = metrics.histogramTally(e, "_sum");
  const buckets = metrics.histogramTally(e, "_bucket");
  const timed: TimedCalls[] = [];
  for (const [id, n] of metrics.histogramTally(e, "_count")) {
    const durations = measured.get(id);
    if (!(n > 0) || !durations?.length) continue;
    // The spans time the same calls (a few more or fewer where a fault cut calls: their counts are reconciled
    // elsewhere), or a random sample of them when some requests were not sampled.
    const m = durations.length;
    const sampled = unsampled && m < n;
    if (m !== n && !sampled && Math.abs(n - m) > Math.max(2, 0.1 * n)) continue;
    const histogramSum = sums.get(id) ?? 0;
    const own = [...buckets]
      .filter(([bucketKey]) => bucketKey.startsWith(`${id}|`))
      .map(([bucketKey, v]): [number, number] => [
        Number(bucketKey.slice(id.length + 1).replace("+Inf", "Infinity")),
        v,
      ]);
    const where = `${key} ${name}{${id}}`;
    const caught = thawed(id);
    timed.push({
      where,
      service: e.service.name,
      id,
      n,
      durations,
      sampled,
      thawCaught: caught,
      histogramSum,
      buckets: own,
    });
    observed[`${key} ${id}`] = {
      calls: n,
      ...(m !== n ? { spans: m } : {}),
      ...(caught.length ? { thawCaught: caught.length } : {}),
      histogramSumSeconds: round(histogramSum),
      spanSumSeconds: round(sum(durations)),
    };
  }
  return timed;
}

/** The histogram's _sum against the spans' summed durations (all calls), or their mean (a sample). */
function compareSum({ where, service, n, durations, sampled, histogramSum }: TimedCalls, findings: Findings): void {
  const m = durations.length;
  const spanSum = sum(durations);
  // Same calls: the histogram's timer and the span's time one call from slightly different points; over 2,482
  // endpoints of ten catalog runs here their sums differed by at most 1.25 ms a call (p99 0.67 ms), so the sums agree
  // within SAME_CALL_CLOCK_S a call and one paused call (PAUSE_S); each call on one side only may be as long as the
  // longest span. (The bound was 25% + 5 ms a call, and a few sub-millisecond calls observed 1000x passed it.)
  const sameCalls = SAME_CALL_CLOCK_S * m + PAUSED_CALLS * PAUSE_S;
  // A sample: the means agree within 25% + 5 ms plus 4 standard errors of the sample's mean; and being some of the
  // calls, its spans cannot add up to more than all of them (a few spans 1000x long widen the first, not this).
  const mean = spanSum / m;
  const sd = Math.sqrt(sum(durations.map((d) => (d - mean) ** 2)) / m);
  const [got, want, tolerance] = sampled
    ? [histogramSum / n, mean, 0.25 * mean + 0.005 + (4 * sd) / Math.sqrt(m)]
    : [histogramSum, spanSum, sameCalls + Math.abs(n - m) * Math.max(...durations)];
  const finding = (expected: string, observed: number) =>
    findings.add({
      detail: `${where}: _sum rose by ${round(histogramSum)} s over ${n} calls, the ${m} spans measured ${round(spanSum)} s (expected ${expected})`,
      expected: `${expected} (its spans' durations)`,
      observed: `${round(observed)} s`,
      on: `${where} _sum`,
      service,
    });
  if (Math.abs(got - want) > tolerance)
    finding(`${round(want)} s${sampled ? " a call" : ""} +- ${round(tolerance)} s`, got);
  else if (sampled && histogramSum < spanSum - sameCalls)
    finding(`at least ${round(spanSum - sameCalls)} s, all of a sample's ${m} spans`, histogramSum);
}

/**
 * Each bucket's count against the same calls' spans: at least the spans under its bound by more than the clock
 * difference, at most the calls less the spans over it by more than that (a sample: also the counts a random sample
 * showing that many under it is consistent with, at `confidence`).
 */
function compareBuckets(
  { where, service, n, durations, sampled, thawCaught, buckets }: TimedCalls,
  findings: Findings,
  confidence: number,
): void {
  const m = durations.length;
  for (const [le, value] of buckets) {
    // The histogram's timer and the span's time one call from slightly different points (SAME_CALL_CLOCK_S): a
    // call that close to the bound may be on either side of it. Beyond that, a scheduling pause between the two
    // timers moved at most one call of a series (PAUSED_CALLS); calls on one side only (a fault cut them) each
    // move one count.
    const surelyBelow = durations.filter((d) => d <= le - SAME_CALL_CLOCK_S).length;
    const maybeBelow = durations.filter((d) => d <= le + SAME_CALL_CLOCK_S).length;
    const slack = PAUSED_CALLS + (sampled ? 0 : Math.abs(n - m));
    // Calls a thaw caught, over the bound by no more than a pause: perhaps under it in the histogram.
    const paused = thawCaught.filter((d) => d > le + SAME_CALL_CLOCK_S && d <= le + SAME_CALL_CLOCK_S + PAUSE_S).length;
    // The spans time some or all of the calls: the calls under the bound are at least the spans surely under it,
    // and the calls over it at least the spans surely over it.
    let [low, high] = [surelyBelow - slack, n - (m - maybeBelow) + slack + paused];
    if (sampled) {
      // A random sample of the calls (each request sampled or not at random): the calls under the bound are a count
      // whose exact hypergeometric interval holds what the sample shows. (A normal approximation allowed no call over
      // the bound beyond the sample's when all of the sample was under it.)
      const range = populationRange(n, m, { low: surelyBelow - slack, high: maybeBelow + slack }, confidence);
      [low, high] = [Math.max(low, range.low), Math.min(high, range.high)];
    }
    if (value < low || value > high) {
      const below = durations.filter((d) => d <= le).length;
      findings.add({
        detail: `${where} le=${le}: ${value} of ${n} calls under the bound in the histogram, ${below} of ${m} spans (${surelyBelow} more than ${SAME_CALL_CLOCK_S * 1000} ms under it, ${maybeBelow} under it + ${SAME_CALL_CLOCK_S * 1000} ms${sampled ? "; a sample" : ""})`,
        expected: `${Math.max(0, Math.ceil(low))}..${Math.floor(high)} of ${n} calls under le=${le} (its spans)`,
        observed: `${value} of ${n}`,
        on: where,
        service,
      });
    }
  }
}

/**
 * The durations of a series' spans that began in the catch-up of a thaw of its service's process (a fault whose
 * signature pauses it). A thaw resumes all of a process's threads at once and the calls it held run together: a call
 * begun from the thaw to PAUSE_S after it may be paused after its span opened and before the histogram's timer started
 * (the span is the outer of the two), so its span may be over a bound its histogram counts it under. Measured: 2 calls
 * of the Go payments (otelgrpc's stats-handler span, the interceptor's histogram), begun 1.9 and 13.9 ms after a thaw,
 * spans 7.6 and 9.6 ms, counted under 2.5 ms, in 1 of 6 native runs of process-freeze.
 */
function thawCaught(metrics: MetricView, e: Endpoint, startsMs: number[], durations: number[]): number[] {
  const thaws = metrics.view.evidence.faults
    .filter((f) => f.target === e.service.name && faultSignature(f.kind).pauses && f.revertedAtMs !== undefined)
    .map((f) => [f.revertStartedAtMs ?? f.revertedAtMs!, f.revertedAtMs! + PAUSE_S * 1000] as const);
  return durations.filter((_, i) => thaws.some(([from, to]) => startsMs[i]! >= from && startsMs[i]! <= to));
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
  // The driver's wait encloses the edge's timing of a request; the driver records whole milliseconds (Date.now()),
  // so each request's wait may read up to DRIVER_TICK_MS short. Not bounded from below: the driver's wait also holds
  // the connection and the queue before the edge's timer starts (seconds under saturation); the spans bound it.
  if (histogramSum > driverSum + (DRIVER_TICK_MS / 1000) * view.requests.length)
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
