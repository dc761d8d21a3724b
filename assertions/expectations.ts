import type { AssertionFamily } from "./evidence";
import type { SpanKind } from "./trace-model";

/** How one service calls another: "redis" (or another db system) names a backend that has no server spans. */
export type HopProtocol = "http" | "grpc" | "redis";

/** One edge of the call graph: `from` calls `to` over `protocol`. */
export interface Hop {
  from: string;
  to: string;
  protocol: HopProtocol;
}

/** The expected hop graph per route, keyed by the driver's route name ("POST /api/checkout"). */
export type Topology = Record<string, readonly Hop[]>;

/**
 * Picks spans: a service's span of a kind, and for client spans optionally the peer called (a service or a db system).
 */
export interface SpanSelector {
  service: string;
  kind: SpanKind;
  peer?: string;
  /** When false the path may lack this span (e.g. a call never made once an earlier one failed). Default true. */
  required?: boolean;
}

/** Span classes whose semantic-convention attributes are checked. */
export type SpanClass = "http.server" | "http.client" | "grpc.server" | "grpc.client" | "db.client";

/** Per span class, a list of requirements; each requirement is satisfied by any one of its attribute keys. */
export type SemconvRequirements = Record<SpanClass, readonly (readonly string[])[]>;

export interface TraceExpectations {
  /** Attribute on spans holding the X-Request-ID. Default: the contract's requestIdAttribute. */
  requestIdAttribute?: string;
  /** Span kinds that must carry the request id. Default ["server"]. */
  requestIdSpanKinds?: SpanKind[];
  /** Default DEFAULT_SEMCONV. */
  semconv?: SemconvRequirements;
  /**
   * The spans that carry ERROR status in a failed request's trace: exactly these and nowhere else. When set,
   * `traces.error-path` is judged (fault scenarios).
   */
  errorPath?: SpanSelector[];
}

export interface RuntimeExpectations {
  /** Upper bound for event-loop lag. Default 1 s. */
  maxEventLoopLagSeconds?: number;
  /** CPU cores of the machine: process CPU rate may not exceed it. Default 2. */
  cpuCores?: number;
}

export interface HygieneExpectations {
  /** Distinct values one label key of one metric may take before it counts as unbounded. Default 50. */
  maxLabelValues?: number;
  /** Label keys that may never appear (ids and users). Default DEFAULT_FORBIDDEN_LABELS. */
  forbiddenLabels?: string[];
}

/** A counter an error passes through on its way to the edge, and the code it must carry there. */
export interface ErrorLayer {
  service: string;
  metric: "httpServer" | "httpClient" | "grpcServer" | "grpcClient";
  /** HTTP status ("502") or gRPC code name ("UNAVAILABLE"). */
  code: string;
  /** httpClient: the peer_service called. */
  peer?: string;
  /** grpc*: the gRPC method (e.g. "Charge"). */
  method?: string;
}

/** Where the errors of one fault surface, layer by layer (the error-mapping table applied to one fault). */
export interface ErrorSurface {
  /** The fault's target as in the scenario ("payments.Charge", "orders-redis"). */
  fault: string;
  layers: ErrorLayer[];
}

export interface MetricsExpectations {
  /** HTTP routes that are not traffic (probes, scrapes). Default ["/healthz", "/readyz", "/metrics"]. */
  excludeRoutes?: string[];
  /** How each error-producing fault surfaces; judged by `metrics.status-labels`. */
  errorSurfaces?: ErrorSurface[];
  /** Confidence of the binomial acceptance interval for error rates. Default 0.999. */
  confidence?: number;
  /** Latency shift: which side's histogram shows an injected service latency. Default "server". */
  latencySide?: "server" | "client";
  /**
   * Prometheus's scrape interval. A snapshot at an instant holds the last scrape before it, so window edges are
   * blurred by one interval: latency shift tolerates the calls of one interval (plus the injected delay) there.
   * Default 1000.
   */
  scrapeIntervalMs?: number;
  /** Latency shift: share of calls outside the fault window that may be slow anyway (noise). Default 0.02. */
  noiseShare?: number;
}

/** A readiness flip a fault must cause: `service`'s /readyz turns 503 naming `check`, then recovers. */
export interface ReadinessFlip {
  /** The fault's target as in the scenario ("orders-redis"). */
  fault: string;
  service: string;
  check: string;
}

export interface ProbeExpectations {
  readinessFlips?: ReadinessFlip[];
  /** The services' dependency check timeout. Default 1000. */
  checkTimeoutMs?: number;
  /** The probe poller's interval. Default 100. */
  pollIntervalMs?: number;
  /** Scheduling and connection slack on top. Default 500. */
  slackMs?: number;
}

/** What a scenario expects of its run: the families to judge and their parameters. */
export interface Expectations {
  families: AssertionFamily[];
  topology: Topology;
  traces?: TraceExpectations;
  runtime?: RuntimeExpectations;
  hygiene?: HygieneExpectations;
  metrics?: MetricsExpectations;
  probes?: ProbeExpectations;
}

export const DEFAULT_SEMCONV: SemconvRequirements = {
  "http.server": [["http.request.method"], ["http.response.status_code"], ["url.path", "http.route"]],
  // A client that got no response has no status code; error.type stands in.
  "http.client": [["http.request.method"], ["http.response.status_code", "error.type"]],
  "grpc.server": [["rpc.system"], ["rpc.service"], ["rpc.method"], ["rpc.grpc.status_code"]],
  "grpc.client": [["rpc.system"], ["rpc.service"], ["rpc.method"], ["rpc.grpc.status_code"]],
  "db.client": [["db.system", "db.system.name"]],
};

export const DEFAULT_FORBIDDEN_LABELS = [
  "request_id",
  "requestid",
  "trace_id",
  "traceid",
  "span_id",
  "user",
  "user_id",
  "userid",
  "session_id",
  "traceparent",
];

export const DEFAULT_EXCLUDED_ROUTES = ["/healthz", "/readyz", "/metrics"];
