import type { MetricContract, TelemetryContract } from "./contract";
import type { AssertionResult, MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_FORBIDDEN_LABELS, type Topology } from "./expectations";
import { contractLabels } from "./hygiene/contract-labels";
import { histograms } from "./hygiene/histograms";
import { HISTOGRAM_PARTS, HYGIENE_ASSERTIONS } from "./hygiene/ids";
import { routePath } from "./metric-labels";
import type { MetricView } from "./metric-view";
import { metricView, noMetricsReason } from "./metric-view";
import { familyCount, lintExposition } from "./promlint";
import { Findings, notPromised, verdict } from "./result";
import type { RunView } from "./run-view";

export { HYGIENE_ASSERTIONS } from "./hygiene/ids";
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
 * Family "hygiene": every series carries the label keys its contract declares (told first, before any family judges),
 * every service's exposition passes promtool's lint rules, no label takes unbounded values, every series the
 * service's contract promises is there, every `route` label is a declared route template, and every histogram is
 * consistent in itself and with the durations the spans and the driver measured. Services without /metrics are left
 * out of each; with none left, each claim is not promised.
 */
export function assertHygiene(view: RunView): AssertionResult[] {
  const metrics = metricView(view);
  return [
    contractLabels(metrics),
    naming(view, metrics),
    cardinality(view, metrics),
    contractSeries(view, metrics),
    routeLabels(view, metrics),
    histograms(metrics),
  ];
}

/** Not promised when every service of the run lacks /metrics; undefined when one has them. */
function noServiceToJudge(metrics: MetricView, id: string): AssertionResult | undefined {
  const without = metrics.withoutMetrics;
  return metrics.withMetrics.length === 0 && without.length
    ? notPromised(id, "hygiene", `no service to judge: ${noMetricsReason(without)}`)
    : undefined;
}

/** promtool check metrics, rule for rule, over each service's text exposition taken at the end of the run. */
function naming(view: RunView, metrics: MetricView): AssertionResult {
  const unpromised = noServiceToJudge(metrics, HYGIENE_ASSERTIONS.naming);
  if (unpromised) return unpromised;
  const findings = new Findings();
  const expositions = view.evidence.metrics.exposition;
  let families = 0;
  const problems: Record<string, number> = {};
  for (const service of metrics.withMetrics) {
    const text = expositions[service.name];
    if (text === undefined) {
      findings.add({ detail: `${service.name}: no /metrics exposition was captured` });
      continue;
    }
    families += familyCount(text);
    const found = lintExposition(text);
    problems[service.name] = found.length;
    for (const p of found) findings.add({ detail: `${service.name}: ${p.metric} ${p.text}`, service: service.name });
  }
  const services = metrics.withMetrics.length;
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

function meshSamples(view: RunView, metrics: MetricView): MetricSample[] {
  const services = metrics.withMetrics.map((s) => ({
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

function cardinality(view: RunView, metrics: MetricView): AssertionResult {
  const unpromised = noServiceToJudge(metrics, HYGIENE_ASSERTIONS.cardinality);
  if (unpromised) return unpromised;
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
  for (const sample of meshSamples(view, metrics)) {
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
      minimum: metrics.withMetrics.length,
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
  const red: (MetricContract | undefined)[] = [];
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
  const runtime = r
    ? [
        r.heapUsedBytes,
        r.heapTotalBytes,
        ...parts(r.gcDuration),
        ...[r.eventLoopLagSeconds, r.eventLoopUtilization, r.goroutines].filter((n): n is string => n !== undefined),
        r.residentMemoryBytes,
        r.cpuSecondsTotal,
        r.startTimeSeconds,
      ]
    : [];
  // A counter that is its histogram's own _count (OpenTelemetry's exporters) is one series, named once.
  return [...new Set([...red.filter((m): m is MetricContract => m !== undefined).flatMap(parts), ...runtime])];
}

function contractSeries(view: RunView, metrics: MetricView): AssertionResult {
  const unpromised = noServiceToJudge(metrics, HYGIENE_ASSERTIONS.contractSeries);
  if (unpromised) return unpromised;
  const findings = new Findings();
  const required: Record<string, string[]> = {};
  let compared = 0;
  for (const service of metrics.withMetrics) {
    const contract = view.contract(service);
    const want = requiredSeries(contract, view.expectations.topology, service);
    required[service.name] = want;
    for (const name of want) {
      if (metrics.latest(service, name).length) compared++;
      else
        findings.add({
          detail: `${service.name} (${service.instance}) never exposed ${name}, which its contract "${contract.name}" names`,
          expected: `${name} (contract "${contract.name}")`,
          observed: "no such series",
          on: `${service.name}'s /metrics`,
          service: service.name,
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
  const http = metrics.withMetrics.filter((s) => s.protocol === "http");
  const unjudged = view.evidence.services.filter((s) => s.protocol === "http" && s.instance === "");
  if (http.length === 0 && unjudged.length)
    return notPromised(
      HYGIENE_ASSERTIONS.routeLabels,
      "hygiene",
      `no HTTP service to judge: ${noMetricsReason(unjudged.map((s) => s.name))}`,
    );
  for (const service of http) {
    const contract = view.contract(service);
    const declared = new Set([...(service.operations ?? []).map(routePath), UNMATCHED_ROUTE]);
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
          expected: `a declared route template (${[...declared].join(", ")})`,
          observed: `route="${value}"`,
          on: `${service.name}'s request metrics`,
          service: service.name,
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
