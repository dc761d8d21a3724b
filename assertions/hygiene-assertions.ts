import type { MetricContract, TelemetryContract } from "./contract";
import type { AssertionResult, MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_FORBIDDEN_LABELS, type Topology } from "./expectations";
import { sum } from "./metric-query";
import type { MetricView } from "./metric-view";
import { endpointKey, metricView, tallySpans, type Endpoint, type Tally } from "./metric-view";
import { familyCount, lintExposition } from "./promlint";
import { Findings, verdict } from "./result";
import type { RunView } from "./run-view";

/** Stable ids of the hygiene family. */
export const HYGIENE_ASSERTIONS = {
  naming: "hygiene.naming",
  cardinality: "hygiene.cardinality",
  contractSeries: "hygiene.contract-series",
  routeLabels: "hygiene.route-labels",
  histograms: "hygiene.histograms",
} as const;

const HISTOGRAM_PARTS = ["_bucket", "_sum", "_count"];
/** Labels whose values are bounded by construction and are not judged for cardinality. */
const STRUCTURAL_LABELS = new Set(["le", "quantile", "__name__"]);
const ID_LIKE = [
  { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, what: "a UUID" },
  { pattern: /^[0-9a-f]{32}$/i, what: "a trace id" },
  { pattern: /^[0-9a-f]{16}$/i, what: "a span id" },
];
/** The route label value a service gives requests that matched no route (bounded by construction). */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * Family "hygiene": every service's exposition passes promtool's lint rules, no label takes unbounded values, every
 * series the service's contract promises is there, every `route` label is a declared route template, and every
 * histogram is consistent in itself and with the durations the spans and the driver measured.
 */
export function assertHygiene(view: RunView): AssertionResult[] {
  const metrics = metricView(view);
  return [
    naming(view),
    cardinality(view),
    contractSeries(view, metrics),
    routeLabels(view, metrics),
    histograms(metrics),
  ];
}

/** promtool check metrics, rule for rule, over each service's text exposition taken at the end of the run. */
function naming(view: RunView): AssertionResult {
  const findings = new Findings();
  const expositions = view.evidence.metrics.exposition;
  let families = 0;
  const problems: Record<string, number> = {};
  for (const service of view.evidence.services) {
    const text = expositions[service.name];
    if (text === undefined) {
      findings.add({ detail: `${service.name}: no /metrics exposition was captured` });
      continue;
    }
    families += familyCount(text);
    const found = lintExposition(text);
    problems[service.name] = found.length;
    for (const p of found) findings.add({ detail: `${service.name}: ${p.metric} ${p.text}` });
  }
  const services = view.evidence.services.length;
  return verdict(
    HYGIENE_ASSERTIONS.naming,
    "hygiene",
    findings,
    { passed: `${families} metric families pass promtool's lint rules`, failed: `${findings.count} lint problem(s)` },
    {
      compared: families,
      minimum: services,
      what: "metric families",
      because: `${services} services, each exposing some`,
    },
    { rules: "promtool check metrics (Prometheus 2.42)" },
    { families, problems },
  );
}

function meshSamples(view: RunView): MetricSample[] {
  const services = view.evidence.services.map((s) => ({
    key: view.contract(s).labels.instance,
    s,
    up: view.contract(s).up,
  }));
  const keys = [...new Set(services.map((x) => x.key))];
  const byInstance = new Map(services.map((x) => [`${x.key}=${x.s.instance}`, x]));
  const ofMesh = (sample: MetricSample) => {
    const owner = keys.map((k) => byInstance.get(`${k}=${sample.labels[k]}`)).find((x) => x !== undefined);
    return owner !== undefined && sample.name !== owner.up && !sample.name.startsWith("scrape_");
  };
  return [view.evidence.metrics.end, ...Object.values(view.evidence.metrics.at)].flat().filter(ofMesh);
}

function cardinality(view: RunView): AssertionResult {
  const max = view.expectations.hygiene?.maxLabelValues ?? 50;
  const forbidden = view.expectations.hygiene?.forbiddenLabels ?? DEFAULT_FORBIDDEN_LABELS;
  const forbiddenSet = new Set(forbidden.map((k) => k.toLowerCase()));
  const sentIds = new Set(view.evidence.requests.flatMap((r) => [r.id, r.traceId]));
  const findings = new Findings();
  const values = new Map<string, Set<string>>();
  const reported = new Set<string>();
  const report = (key: string, detail: string) => {
    if (reported.has(key)) return;
    reported.add(key);
    findings.add({ detail });
  };
  const idLike = new Map<string, string | undefined>();
  for (const sample of meshSamples(view)) {
    for (const [key, value] of Object.entries(sample.labels)) {
      if (STRUCTURAL_LABELS.has(key)) continue;
      const series = `${sample.name}{${key}}`;
      let seen = values.get(series);
      if (!seen) {
        seen = new Set<string>();
        values.set(series, seen);
        if (forbiddenSet.has(key.toLowerCase()))
          report(series, `${series} is a label that identifies a request or user`);
      }
      if (seen.has(value)) continue;
      seen.add(value);
      if (sentIds.has(value)) report(series, `${series} carries "${value}", an id the driver sent`);
      if (!idLike.has(value)) idLike.set(value, ID_LIKE.find((l) => l.pattern.test(value))?.what);
      const like = idLike.get(value);
      if (like) report(series, `${series} carries "${value}", which looks like ${like}`);
    }
  }
  let most = { series: "", values: 0 };
  for (const [series, seen] of values) {
    if (seen.size > most.values) most = { series, values: seen.size };
    if (seen.size > max) report(`${series}#count`, `${series} takes ${seen.size} distinct values (> ${max})`);
  }
  return verdict(
    HYGIENE_ASSERTIONS.cardinality,
    "hygiene",
    findings,
    { passed: `no label takes unbounded or identifying values`, failed: `${findings.count} unbounded label(s)` },
    {
      compared: values.size,
      minimum: view.evidence.services.length,
      what: "labels of series",
      because: "every service exposes labelled series",
    },
    { maxLabelValues: max, forbiddenLabels: forbidden },
    { mostValues: most },
  );
}

/** The contract series a service must expose, from its role and the hops it serves and makes. */
export function requiredSeries(contract: TelemetryContract, topology: Topology, service: ServiceInfo): string[] {
  const hops = Object.values(topology).flat();
  const serves = (protocol: string) => hops.some((h) => h.to === service.name && h.protocol === protocol);
  const calls = (protocol: string) => hops.some((h) => h.from === service.name && h.protocol === protocol);
  const red: MetricContract[] = [];
  if (service.role === "edge" || serves("http")) red.push(contract.httpServerRequests, contract.httpServerDuration);
  if (calls("http")) red.push(contract.httpClientRequests, contract.httpClientDuration);
  if (serves("grpc")) red.push(contract.grpcServerHandled, contract.grpcServerHandling);
  if (calls("grpc")) red.push(contract.grpcClientHandled, contract.grpcClientHandling);
  const r = contract.runtimeMetrics;
  const parts = (m: { name: string; type: string }) =>
    m.type === "histogram"
      ? HISTOGRAM_PARTS.map((p) => m.name + p)
      : m.type === "summary"
        ? [`${m.name}_count`, `${m.name}_sum`]
        : [m.name];
  return [
    ...red.flatMap(parts),
    r.heapUsedBytes,
    r.heapTotalBytes,
    ...parts(r.gcDuration),
    ...[r.eventLoopLagSeconds, r.eventLoopUtilization, r.goroutines].filter((n): n is string => n !== undefined),
    r.residentMemoryBytes,
    r.cpuSecondsTotal,
    r.startTimeSeconds,
  ];
}

function contractSeries(view: RunView, metrics: MetricView): AssertionResult {
  const findings = new Findings();
  const required: Record<string, string[]> = {};
  let compared = 0;
  for (const service of view.evidence.services) {
    const contract = view.contract(service);
    const want = requiredSeries(contract, view.expectations.topology, service);
    required[service.name] = want;
    for (const name of want) {
      if (metrics.latest(service, name).length) compared++;
      else
        findings.add({
          detail: `${service.name} (${service.instance}) never exposed ${name}, which its contract "${contract.name}" names`,
        });
    }
  }
  const total = Object.values(required).reduce((n, list) => n + list.length, 0);
  return verdict(
    HYGIENE_ASSERTIONS.contractSeries,
    "hygiene",
    findings,
    {
      passed: "every service exposes every series its contract names",
      failed: `${findings.count} contract series missing`,
    },
    { compared, minimum: total, what: "contract series present", because: "the series each service's contract names" },
    { required },
    { missing: findings.count },
  );
}

/** Every `route` label of an HTTP server series is a route template the service declares. */
function routeLabels(view: RunView, metrics: MetricView): AssertionResult {
  const findings = new Findings();
  const observed: Record<string, string[]> = {};
  let compared = 0;
  const http = view.evidence.services.filter((s) => s.protocol === "http");
  for (const service of http) {
    const contract = view.contract(service);
    const declared = new Set([
      ...(service.operations ?? []).map((o) => o.split(" ").slice(1).join(" ")),
      UNMATCHED_ROUTE,
    ]);
    const values = new Set(
      metrics
        .latest(service, contract.httpServerRequests.name)
        .map((s) => s.labels[contract.labels.httpRoute])
        .filter((v): v is string => v !== undefined),
    );
    observed[service.name] = [...values].sort();
    if (!service.operations?.length)
      findings.add({ detail: `${service.name} declares no route templates to judge against` });
    for (const value of values) {
      if (metrics.excluded.has(value)) continue;
      compared++;
      if (!declared.has(value))
        findings.add({
          detail: `${service.name} labels requests route="${value}", not a declared template (${[...declared].join(", ")})`,
        });
    }
  }
  return verdict(
    HYGIENE_ASSERTIONS.routeLabels,
    "hygiene",
    findings,
    { passed: "every route label is a declared route template", failed: "route labels that are not templates" },
    { compared, minimum: http.length, what: "route label values", because: `${http.length} HTTP services` },
    { declared: Object.fromEntries(http.map((s) => [s.name, s.operations ?? []])) },
    observed,
  );
}

/** The largest finite bucket bound a request-duration histogram in seconds may have (5 minutes). */
const MAX_SECONDS_BOUND = 300;

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
 * duration lies so near a bound that the two clocks may put it on either side.
 */
function histograms(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const spans = tallySpans(metrics).durations;
  const unsampled = view.requests.some((r) => !r.sampled);
  let compared = 0;
  const observed: Record<string, unknown> = {};
  const endpoints = metrics.plannedEndpoints();
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
    { sumTolerance: "25% + 5 ms per call", buckets: "within calls near the bound + max(2, 5%)" },
    observed,
  );
}

/** An endpoint's histogram series at the end of the run, by "operation|code". */
function seriesAtEnd(metrics: MetricView, e: Endpoint): Map<string, HistogramSeries> {
  const name = metrics.histogram(e).name;
  const series = new Map<string, HistogramSeries>();
  const codeKey = metrics.codeKey(e);
  for (const part of HISTOGRAM_PARTS)
    for (const s of metrics.latest(e.service, `${name}${part}`)) {
      const id = `${metrics.operationOf(e, s.labels)}|${s.labels[codeKey]}`;
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
  const name = metrics.histogram(e).name;
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
  const name = metrics.histogram(e).name;
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
    const calls: TimedCalls = { where: `${key} ${name}{${id}}`, id, n, durations, sampled };
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
function compareSum({ where, n, durations, sampled }: TimedCalls, histogramSum: number, findings: Findings): void {
  const m = durations.length;
  const spanSum = sum(durations);
  // Same calls: the sums agree within 25% + 5 ms a call; each call on one side only may be as long as the
  // longest span. A sample: the means agree within 25% + 5 ms plus 4 standard errors of the sample's mean.
  const mean = spanSum / m;
  const sd = Math.sqrt(sum(durations.map((d) => (d - mean) ** 2)) / m);
  const [got, want, tolerance] = sampled
    ? [histogramSum / n, mean, 0.25 * mean + 0.005 + (4 * sd) / Math.sqrt(m)]
    : [histogramSum, spanSum, 0.25 * spanSum + 0.005 * n + Math.abs(n - m) * Math.max(...durations)];
  if (Math.abs(got - want) > tolerance)
    findings.add({
      detail: `${where}: _sum rose by ${round(histogramSum)} s over ${n} calls, the ${m} spans measured ${round(spanSum)} s (${sampled ? "per call " : ""}tolerance ${round(tolerance)} s)`,
    });
}

/** Each bucket's share of the calls against the share of spans at or below its bound. */
function compareBuckets({ where, id, n, durations, sampled }: TimedCalls, buckets: Tally, findings: Findings): void {
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
      });
  }
}

/** The edge's server time cannot exceed what the driver waited for the same requests. */
function compareEdgeWithDriver(metrics: MetricView, findings: Findings, observed: Record<string, unknown>): void {
  const { view } = metrics;
  const edge = view.edge;
  if (!edge) return;
  const e = { service: edge, protocol: "http" as const, side: "server" as const };
  const histogramSum = sum(metrics.histogramTally(e, "_sum").values());
  const driverSum = sum(
    view.requests.filter((r) => r.request.status !== 0).map((r) => (r.request.endMs - r.request.startMs) / 1000),
  );
  observed.edge = { histogramSumSeconds: round(histogramSum), driverSumSeconds: round(driverSum) };
  if (histogramSum > driverSum + 0.001 * view.requests.length)
    findings.add({
      detail: `${edge.name} ${metrics.histogram(e).name}_sum rose by ${round(histogramSum)} s, more than the driver waited for those requests (${round(driverSum)} s)`,
    });
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
