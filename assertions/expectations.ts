import type { AssertionFamily } from "./evidence";

export { ALL_FAMILIES } from "./evidence";
import type { SpanKind } from "./trace-model";

/** How one service calls another: a datastore protocol ("redis", "sql", any "db") names a callee with no server spans. */
export const HOP_PROTOCOLS = ["http", "grpc", "redis", "sql", "db"] as const;
export type HopProtocol = (typeof HOP_PROTOCOLS)[number];

/**
 * One edge of the call graph: `from` calls `to` over `protocol`. A route's hops are listed in call order: when a
 * call fails, the hops listed before it were made and the ones after it were not.
 */
export interface Hop {
  from: string;
  to: string;
  protocol: HopProtocol;
  /** The operation called: a gRPC method ("Charge") or an HTTP "METHOD /route" ("POST /orders"). */
  method?: string;
  /** Calls per request over the hop, a fan-out or a call retried (HotROD's 10 route calls); one when absent. */
  count?: HopCount;
  /**
   * The service name the hop's client spans carry when it is not the caller's: an in-process datastore client with
   * a tracer of its own (HotROD's customer reports its SQL calls as service "mysql").
   */
  reportedBy?: string;
  /**
   * The caller retries failed calls over the hop: an ERROR span on it is a failed attempt, not a contradiction of a
   * request that succeeded.
   */
  retried?: boolean;
}

/** How many calls a request makes over a hop: at least `min`, at most `max`. */
export interface HopCount {
  min: number;
  max: number;
}

/** The calls a request makes over a hop, one when the hop declares no count. */
export function hopCount(hop: Pick<Hop, "count">): HopCount {
  return hop.count ?? { min: 1, max: 1 };
}

/** The service whose spans stand for the hop's calling side. */
export function clientService(hop: Pick<Hop, "from" | "reportedBy">): string {
  return hop.reportedBy ?? hop.from;
}

/** The expected hop graph per route, keyed by the driver's route name ("POST /api/checkout"). */
export type Topology = Record<string, readonly Hop[]>;

/** Span classes whose semantic-convention attributes are checked. */
export type SpanClass = "http.server" | "http.client" | "grpc.server" | "grpc.client" | "db.client";

export interface TraceExpectations {
  /** Span kinds that must carry the request id. Default ["server"]. */
  requestIdSpanKinds?: SpanKind[];
}

export interface RuntimeExpectations {
  /** Upper bound for event-loop lag. Default 1 s. */
  maxEventLoopLagSeconds?: number;
  /** CPU cores of the machine: process CPU rate may not exceed it. Default 2. */
  cpuCores?: number;
  /** Memory of the machine: no process's RSS may exceed it. Default 24 GiB. */
  memoryBytes?: number;
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
  /**
   * HTTP status ("502") or gRPC code name ("UNAVAILABLE"); a list when the fault fails calls more than one mapped
   * way (a stalled link: deadlines first, then the broken connection), and the codes' increases add up.
   */
  code: string | string[];
  /** httpClient: the peer_service called. */
  peer?: string;
  /** grpc*: the gRPC method (e.g. "Charge"). */
  method?: string;
  /** httpServer: the route ("POST /api/checkout"), where the service serves more than one. */
  route?: string;
}

/** Where the errors of one fault surface, layer by layer (the error-mapping table applied to one fault). */
export interface ErrorSurface {
  /** The fault's target as in the scenario ("payments.Charge", "orders-redis"). */
  fault: string;
  /** Only the failures of this route (a fault on a service several routes cross surfaces differently per route). */
  route?: string;
  layers: ErrorLayer[];
  /**
   * false: the layers list the codes the fault may leave, not one per failure at each (an overload fails calls at
   * any hop): each layer's codes are allowed, their counts are left to the hop and span reconciliations. Default true.
   */
  exact?: boolean;
}

export interface MetricsExpectations {
  /** HTTP routes that are not traffic (probes, scrapes). Default ["/healthz", "/readyz", "/metrics"]. */
  excludeRoutes?: string[];
  /** How each error-producing fault surfaces; judged by `metrics.status-labels`. */
  errorSurfaces?: ErrorSurface[];
  /** Confidence of the binomial acceptance interval for error rates. Default 0.999. */
  confidence?: number;
  /** Latency shift: least share of the calls started inside the fault window that must be slow. Default 0.95. */
  slowShareInside?: number;
  /** Latency shift: largest share of the calls started outside the fault window that may be slow. Default 0.05. */
  slowShareOutside?: number;
}

/**
 * A probe flip a fault must cause: `service`'s probe stops answering 200 — a 503 naming `check`, or no answer at all
 * (a frozen process times out, a dead one refuses) — within the bound, and answers 200 again within it after the
 * revert.
 */
export interface ReadinessFlip {
  /** The fault's target as in the scenario ("orders-redis", "payments"). */
  fault: string;
  service: string;
  /** Which probe flips. Default "readyz". */
  probe?: "readyz" | "healthz";
  /** The failed check a 503 must name (absent: any 503, or no answer). */
  check?: string;
  /** How it fails: "503" (default), "timeout" (a frozen process), "refused" (a dead one). */
  answer?: "503" | "timeout" | "refused";
  /**
   * A fault that fails the probe now and then, not throughout (a periodic event-loop stall fails the poll after
   * each block): at least `atLeast` such answers while the fault holds, 200s between them allowed.
   */
  intermittent?: { atLeast: number };
}

export interface ProbeExpectations {
  readinessFlips?: ReadinessFlip[];
  /**
   * Faults (by target) while which any probe may fail, without a declared flip: an overloaded mesh answers probes
   * late or 503 (its readiness checks time out, its event loop lags). Their polls are not judged then.
   */
  tolerate?: string[];
  /** The services' dependency check timeout. Default 1000. */
  checkTimeoutMs?: number;
  /** The probe poller's interval. Default 100. */
  pollIntervalMs?: number;
  /** Scheduling and connection slack on top. Default 500. */
  slackMs?: number;
}

/** The probe parameters a scenario does not set: the kit's check timeout and the harness poller's interval. */
export const PROBE_DEFAULTS = { checkTimeoutMs: 1000, pollIntervalMs: 100, slackMs: 500 } as const;

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
