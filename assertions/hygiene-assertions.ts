import type { MetricContract, TelemetryContract } from "./contract";
import { DEFAULT_CONTRACT } from "./contract";
import type { AssertionResult, Evidence, MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_FORBIDDEN_LABELS } from "./expectations";
import type { Expectations, Topology } from "./expectations";
import { labelsOf, ofService, select } from "./metric-query";
import { Findings, verdict } from "./result";

/** Stable ids of the hygiene family. */
export const HYGIENE_ASSERTIONS = {
  naming: "hygiene.naming",
  cardinality: "hygiene.cardinality",
  contractSeries: "hygiene.contract-series",
} as const;

const NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Name tokens of non-base units: Prometheus wants seconds and bytes. */
const NON_BASE_UNITS = new Set([
  ...["milliseconds", "millisecond", "millis", "ms", "microseconds", "us", "nanoseconds", "ns"],
  ...["minutes", "hours", "days", "kilobytes", "kb", "kib", "megabytes", "mb", "mib", "gigabytes", "gb", "percent"],
]);
const DURATION_TOKENS = new Set(["duration", "latency", "lag", "elapsed"]);
const HISTOGRAM_PARTS = ["_bucket", "_sum", "_count"];
/** Labels whose values are bounded by construction and are not judged for cardinality. */
const STRUCTURAL_LABELS = new Set(["le", "quantile", "__name__"]);
const ID_LIKE = [
  { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, what: "a UUID" },
  { pattern: /^[0-9a-f]{32}$/i, what: "a trace id" },
  { pattern: /^[0-9a-f]{16}$/i, what: "a span id" },
];

/**
 * Family "hygiene": metric names follow Prometheus conventions, no label takes unbounded values, and every series
 * the contract promises is there for every service that should have it.
 */
export function assertHygiene(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  const instanceKey = labelsOf(contract).instance;
  const instances = new Set(evidence.services.map((s) => s.instance));
  const upName = contract.up ?? "up";
  const meshSamples = (samples: MetricSample[]) =>
    samples.filter(
      (s) => instances.has(s.labels[instanceKey] ?? "") && s.name !== upName && !s.name.startsWith("scrape_"),
    );
  const samples = [evidence.metrics.end, ...Object.values(evidence.metrics.at)].flatMap(meshSamples);
  const names = [...new Set(samples.map((s) => s.name))].sort();

  const naming = new Findings();
  for (const name of names) for (const problem of nameProblems(name)) naming.add({ detail: problem });
  for (const metric of contractMetrics(contract))
    for (const problem of contractNameProblems(metric)) naming.add({ detail: problem });
  for (const [family, meta] of Object.entries(evidence.metrics.metadata ?? {})) {
    const sampleNames = names.filter((n) => n === family || n === `${family}_total`);
    if (meta.type === "counter") {
      for (const n of sampleNames.filter((n) => !n.endsWith("_total")))
        naming.add({ detail: `counter ${n} does not end in _total` });
    } else if (meta.type === "gauge" && family.endsWith("_total"))
      naming.add({ detail: `gauge ${family} ends in _total, which marks counters` });
  }

  const cardinality = cardinalityFindings(evidence, expectations, samples);
  const contractSeries = new Findings();
  const required: Record<string, string[]> = {};
  for (const service of evidence.services) {
    const want = requiredSeries(contract, expectations.topology, service);
    required[service.name] = want;
    for (const name of want)
      if (!select(evidence.metrics.end, ofService(contract, service, name)).length)
        contractSeries.add({ detail: `${service.name} (${service.instance}) exposes no ${name}` });
  }

  return [
    verdict(
      HYGIENE_ASSERTIONS.naming,
      "hygiene",
      naming,
      {
        passed: `${names.length} metric names follow Prometheus conventions`,
        failed: `${naming.count} naming problem(s)`,
      },
      { counters: "end in _total", units: "base units (seconds, bytes)" },
      { names: names.length, problems: naming.count },
    ),
    verdict(
      HYGIENE_ASSERTIONS.cardinality,
      "hygiene",
      cardinality.findings,
      {
        passed: `no label of ${names.length} metrics takes unbounded values`,
        failed: `${cardinality.findings.count} unbounded label(s)`,
      },
      { maxLabelValues: cardinality.max, forbiddenLabels: cardinality.forbidden },
      { mostValues: cardinality.most },
    ),
    verdict(
      HYGIENE_ASSERTIONS.contractSeries,
      "hygiene",
      contractSeries,
      {
        passed: `every service exposes its contract series`,
        failed: `${contractSeries.count} contract series missing`,
      },
      required,
      { missing: contractSeries.count },
    ),
  ];
}

function nameProblems(name: string): string[] {
  if (!NAME_PATTERN.test(name)) return [`${name} is not a valid Prometheus metric name`];
  const tokens = name.toLowerCase().split("_");
  const problems: string[] = [];
  const unit = tokens.find((t) => NON_BASE_UNITS.has(t));
  if (unit) problems.push(`${name} uses the non-base unit "${unit}" (use seconds or bytes)`);
  if (tokens.some((t) => DURATION_TOKENS.has(t)) && !tokens.includes("seconds") && !unit)
    problems.push(`${name} measures time but does not end in _seconds`);
  return problems;
}

function contractNameProblems(metric: MetricContract): string[] {
  if (metric.type === "counter" && !metric.name.endsWith("_total"))
    return [`contract counter ${metric.name} does not end in _total`];
  if (metric.type !== "counter" && /_(total|count|sum|bucket)$/.test(metric.name))
    return [`contract ${metric.type} ${metric.name} ends in a suffix reserved for counters and histogram parts`];
  return [];
}

function contractMetrics(contract: TelemetryContract): MetricContract[] {
  return [
    contract.httpServerRequests,
    contract.httpServerDuration,
    contract.httpClientRequests,
    contract.httpClientDuration,
    contract.grpcServerHandled,
    contract.grpcServerHandling,
    contract.grpcClientHandled,
    contract.grpcClientHandling,
    contract.faultsInjected,
  ];
}

function cardinalityFindings(evidence: Evidence, expectations: Expectations, samples: MetricSample[]) {
  const max = expectations.hygiene?.maxLabelValues ?? 50;
  const forbidden = expectations.hygiene?.forbiddenLabels ?? DEFAULT_FORBIDDEN_LABELS;
  const forbiddenSet = new Set(forbidden.map((k) => k.toLowerCase()));
  const sentIds = new Set(evidence.requests.flatMap((r) => [r.id, r.traceId]));
  const findings = new Findings();
  const values = new Map<string, Set<string>>();
  const reported = new Set<string>();
  const report = (key: string, detail: string) => {
    if (reported.has(key)) return;
    reported.add(key);
    findings.add({ detail });
  };
  for (const sample of samples) {
    for (const [key, value] of Object.entries(sample.labels)) {
      if (STRUCTURAL_LABELS.has(key)) continue;
      const series = `${sample.name}{${key}}`;
      if (forbiddenSet.has(key.toLowerCase())) report(series, `${series} is a label that identifies a request or user`);
      if (sentIds.has(value)) report(series, `${series} carries "${value}", an id the driver sent`);
      const like = ID_LIKE.find((l) => l.pattern.test(value));
      if (like) report(series, `${series} carries "${value}", which looks like ${like.what}`);
      const seen = values.get(series) ?? new Set<string>();
      seen.add(value);
      values.set(series, seen);
    }
  }
  let most = { series: "", values: 0 };
  for (const [series, seen] of values) {
    if (seen.size > most.values) most = { series, values: seen.size };
    if (seen.size > max) report(`${series}#count`, `${series} takes ${seen.size} distinct values (> ${max})`);
  }
  return { findings, max, forbidden, most };
}

/** The contract series a service must expose, from its role and the hops it serves and makes. */
export function requiredSeries(contract: TelemetryContract, topology: Topology, service: ServiceInfo): string[] {
  const hops = Object.values(topology).flat();
  const serves = (protocol: string) => hops.some((h) => h.to === service.name && h.protocol === protocol);
  const calls = (protocol: string) => hops.some((h) => h.from === service.name && h.protocol === protocol);
  const metrics: MetricContract[] = [];
  if (service.role === "edge" || serves("http")) metrics.push(contract.httpServerRequests, contract.httpServerDuration);
  if (calls("http")) metrics.push(contract.httpClientRequests, contract.httpClientDuration);
  if (serves("grpc")) metrics.push(contract.grpcServerHandled, contract.grpcServerHandling);
  if (calls("grpc")) metrics.push(contract.grpcClientHandled, contract.grpcClientHandling);
  const runtime = contract.runtime;
  return [
    ...metrics.flatMap((m) => (m.type === "histogram" ? HISTOGRAM_PARTS.map((p) => m.name + p) : [m.name])),
    runtime.heapUsedBytes,
    runtime.heapTotalBytes,
    `${runtime.gcDurationSeconds}_count`,
    runtime.eventLoopLagSeconds,
    runtime.eventLoopUtilization,
    runtime.residentMemoryBytes,
    runtime.cpuSecondsTotal,
  ];
}
