import { performance } from "node:perf_hooks";
import client, {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
  type OpenMetricsContentType,
} from "prom-client";
import type { DefectName } from "./defects";
import { EVENT_LOOP_UTILIZATION, GAUGES_NAMED_TOTAL, KIT_METRICS, type KitMetric } from "./metric-names";

type Labels<K extends string> = LabelValues<K>;

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A duration histogram with a trace_id exemplar per bucket (OpenMetrics only keeps the last one). */
export class ExemplarHistogram<K extends string> {
  constructor(private readonly histogram: Histogram<K | "trace_id">) {}

  observe(labels: Labels<K>, seconds: number, traceId: string | undefined): void {
    const all = labels as LabelValues<K | "trace_id">;
    // With exemplars enabled prom-client only takes the object form; an empty exemplar set records none.
    const exemplarLabels = (traceId ? { trace_id: traceId } : {}) as LabelValues<K | "trace_id">;
    this.histogram.observe({ labels: all, value: seconds, exemplarLabels });
  }

  zero(labels: Labels<K>): void {
    this.histogram.zero(labels as LabelValues<K | "trace_id">);
  }
}

type HttpServerLabel = "method" | "route" | "status_code";
type HttpClientLabel = "method" | "peer_service" | "status_code";
type GrpcLabel = "grpc_service" | "grpc_method" | "grpc_code";

/** The RED metrics of one service, registered from the telemetry contract. */
export interface MeshMetrics {
  /** What /metrics serves: always the service's own registry (never prom-client's global one), OpenMetrics. */
  registry: Registry<OpenMetricsContentType>;
  httpServerRequests: Counter<HttpServerLabel>;
  httpServerDuration: ExemplarHistogram<HttpServerLabel>;
  httpClientRequests: Counter<HttpClientLabel>;
  httpClientDuration: ExemplarHistogram<HttpClientLabel>;
  grpcServerHandled: Counter<GrpcLabel>;
  grpcServerHandling: ExemplarHistogram<GrpcLabel>;
  grpcClientHandled: Counter<GrpcLabel>;
  grpcClientHandling: ExemplarHistogram<GrpcLabel>;
  faultsInjected: Counter<"kind" | "target">;
}

export interface MetricsOptions {
  defects?: ReadonlySet<DefectName>;
}

/**
 * Creates the service's registry (OpenMetrics, so Prometheus gets exemplars), the kit's RED metrics, and the runtime
 * metrics (prom-client defaults plus event-loop utilisation).
 */
export function createMetrics(options: MetricsOptions = {}): MeshMetrics {
  const defects = options.defects ?? new Set<DefectName>();
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // default-registry: the classic two-registry mistake; RED metrics go to the global registry nobody serves.
  const redRegistry = defects.has("default-registry")
    ? (client.register as unknown as Registry<OpenMetricsContentType>)
    : registry;
  if (defects.has("default-registry")) redRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);

  const counter = <K extends string>(c: KitMetric) =>
    new Counter<K>({ name: c.name, help: c.help, labelNames: c.labelKeys as K[], registers: [redRegistry] });
  const histogram = <K extends string>(c: KitMetric) =>
    new ExemplarHistogram<K>(
      new Histogram<K | "trace_id">({
        name: c.name,
        help: c.help,
        labelNames: c.labelKeys as K[],
        buckets: DURATION_BUCKETS,
        enableExemplars: true,
        registers: [redRegistry],
      }),
    );

  if (!defects.has("no-runtime-metrics")) registerRuntimeMetrics(registry, defects.has("elu-frozen"));

  const m = KIT_METRICS;
  const metrics = {
    registry,
    httpServerRequests: counter(m.httpServerRequests),
    httpServerDuration: histogram(m.httpServerDuration),
    httpClientRequests: counter(m.httpClientRequests),
    httpClientDuration: histogram(m.httpClientDuration),
    grpcServerHandled: counter(m.grpcServerHandled),
    grpcServerHandling: histogram(m.grpcServerHandling),
    grpcClientHandled: counter(m.grpcClientHandled),
    grpcClientHandling: histogram(m.grpcClientHandling),
    faultsInjected: counter(m.faultsInjected),
  };
  // The same metric objects, rendered in the text format (exemplars are OpenMetrics-only).
  return metrics;
}

/** How often the event-loop utilisation gauge is sampled. */
export const ELU_SAMPLE_MS = 1_000;

function registerRuntimeMetrics(registry: Registry<OpenMetricsContentType>, frozen: boolean): void {
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
  // Sampled on a timer, not in collect(): a value computed at each read would cover the time since whoever read
  // /metrics last (Prometheus, the harness, a curl), so one reader would change what the others see.
  let last = performance.eventLoopUtilization();
  let utilisation = last.utilization;
  if (!frozen)
    setInterval(() => {
      const now = performance.eventLoopUtilization();
      utilisation = performance.eventLoopUtilization(now, last).utilization;
      last = now;
    }, ELU_SAMPLE_MS).unref();
  new Gauge({
    name: EVENT_LOOP_UTILIZATION,
    help: `Event-loop utilisation (0..1) over the last completed ${ELU_SAMPLE_MS / 1000} s interval.`,
    registers: [registry],
    collect() {
      this.set(utilisation); // elu-frozen: no sampler, the start-up value stays
    },
  });
}

/** Pre-initialises HTTP server series (counter and histogram) at 0 for every status a route can answer. */
export function preinitHttpServer(
  metrics: MeshMetrics,
  method: string,
  route: string,
  statuses: readonly number[],
): void {
  for (const status of statuses) {
    const labels = { method, route, status_code: String(status) };
    metrics.httpServerRequests.inc(labels, 0);
    metrics.httpServerDuration.zero(labels);
  }
}

export function preinitHttpClient(
  metrics: MeshMetrics,
  method: string,
  peer: string,
  statuses: readonly number[],
): void {
  for (const status of statuses) {
    const labels = { method, peer_service: peer, status_code: String(status) };
    metrics.httpClientRequests.inc(labels, 0);
    metrics.httpClientDuration.zero(labels);
  }
}

export function preinitGrpc(
  metrics: MeshMetrics,
  side: "server" | "client",
  grpcService: string,
  methods: readonly string[],
  codes: readonly string[],
): void {
  const counter = side === "server" ? metrics.grpcServerHandled : metrics.grpcClientHandled;
  const histogram = side === "server" ? metrics.grpcServerHandling : metrics.grpcClientHandling;
  for (const method of methods) {
    for (const code of codes) {
      const labels = { grpc_service: grpcService, grpc_method: method, grpc_code: code };
      counter.inc(labels, 0);
      histogram.zero(labels);
    }
  }
}

/** Splits a gRPC path "/pkg.Service/Method" into its labels. */
export function grpcPathLabels(path: string): { grpc_service: string; grpc_method: string } {
  const [, service = "unknown", method = "unknown"] = path.split("/");
  return { grpc_service: service, grpc_method: method };
}

export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * OpenMetrics exposition -> Prometheus text format (0.0.4), for scrapers that do not ask for OpenMetrics. prom-client
 * only keeps exemplars on an OpenMetrics registry, which stores counter families without their _total; the text
 * format names the family after its samples, so counters get _total back. Exemplars, # UNIT and # EOF are dropped.
 */
export function openMetricsToText(text: string): string {
  const counters = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) counter$/gm)) counters.add(m[1]!);
  return text
    .split("\n")
    .filter((line) => line !== "# EOF" && !line.startsWith("# UNIT "))
    .map((line) => {
      const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
      if (meta && counters.has(meta[2]!)) return `# ${meta[1]} ${meta[2]}_total${meta[3]}`;
      const exemplar = line.indexOf(" # {");
      return exemplar >= 0 ? line.slice(0, exemplar) : line;
    })
    .join("\n");
}
