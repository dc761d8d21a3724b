import { performance } from "node:perf_hooks";
import client, {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
  type OpenMetricsContentType,
} from "prom-client";
import { DEFAULT_CONTRACT, type MetricContract, type TelemetryContract } from "../../assertions/contract";
import type { DefectName } from "./defects";

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
  /** What /metrics serves: always the service's own registry (never prom-client's global one). */
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
  contract?: TelemetryContract;
}

/**
 * Creates the service's registry (OpenMetrics, so Prometheus gets exemplars), the RED metrics named by the
 * contract, and the runtime metrics (prom-client defaults plus event-loop utilisation).
 */
export function createMetrics(options: MetricsOptions = {}): MeshMetrics {
  const contract = options.contract ?? DEFAULT_CONTRACT;
  const defects = options.defects ?? new Set<DefectName>();
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // default-registry: the classic two-registry mistake; RED metrics go to the global registry nobody serves.
  const redRegistry = defects.has("default-registry")
    ? (client.register as unknown as Registry<OpenMetricsContentType>)
    : registry;
  if (defects.has("default-registry")) redRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);

  const counter = <K extends string>(c: MetricContract) =>
    new Counter<K>({ name: c.name, help: c.help, labelNames: c.labelKeys as K[], registers: [redRegistry] });
  const histogram = <K extends string>(c: MetricContract) =>
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

  if (!defects.has("no-runtime-metrics")) registerRuntimeMetrics(registry, contract);

  return {
    registry,
    httpServerRequests: counter(contract.httpServerRequests),
    httpServerDuration: histogram(contract.httpServerDuration),
    httpClientRequests: counter(contract.httpClientRequests),
    httpClientDuration: histogram(contract.httpClientDuration),
    grpcServerHandled: counter(contract.grpcServerHandled),
    grpcServerHandling: histogram(contract.grpcServerHandling),
    grpcClientHandled: counter(contract.grpcClientHandled),
    grpcClientHandling: histogram(contract.grpcClientHandling),
    faultsInjected: counter(contract.faultsInjected),
  };
}

function registerRuntimeMetrics(registry: Registry<OpenMetricsContentType>, contract: TelemetryContract): void {
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: contract.runtime.eventLoopUtilization,
    help: "Event-loop utilisation (0..1) since the previous scrape.",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
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
