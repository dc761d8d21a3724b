/**
 * The telemetry contract as data: metric names and label keys the assertions read. The mesh registers its metrics
 * from this table; another mesh that names things differently supplies its own contract to the assertions.
 */

export interface MetricContract {
  name: string;
  type: "counter" | "histogram" | "gauge";
  help: string;
  labelKeys: readonly string[];
}

/** Label keys by meaning, so assertions never hard-code them. Unset keys take Prometheus/prom-client conventions. */
export interface ContractLabels {
  /** Default "instance" (Prometheus target label, matched against ServiceInfo.instance). */
  instance?: string;
  /** Default "method". */
  httpMethod?: string;
  /** Default "route". */
  httpRoute?: string;
  /** Default "status_code". */
  httpStatusCode?: string;
  /** Default "peer_service". */
  peerService?: string;
  /** Default "grpc_service". */
  grpcService?: string;
  /** Default "grpc_method". */
  grpcMethod?: string;
  /** Default "grpc_code". */
  grpcCode?: string;
  /** Label of the GC histogram; default "kind". */
  gcKind?: string;
  /** Labels of the faults-injected counter; defaults "kind" and "target". */
  faultKind?: string;
  faultTarget?: string;
}

export interface TelemetryContract {
  /** Name of Prometheus's target health series; default "up". */
  up?: string;
  /** Label keys by meaning; see ContractLabels for defaults. */
  labels?: ContractLabels;
  httpServerRequests: MetricContract;
  httpServerDuration: MetricContract;
  httpClientRequests: MetricContract;
  httpClientDuration: MetricContract;
  grpcServerHandled: MetricContract;
  grpcServerHandling: MetricContract;
  grpcClientHandled: MetricContract;
  grpcClientHandling: MetricContract;
  faultsInjected: MetricContract;
  /** Span attribute carrying the X-Request-ID on every server span. */
  requestIdAttribute: string;
  /** Runtime series every service exposes (prom-client default metrics plus event-loop utilisation). */
  runtime: {
    heapUsedBytes: string;
    heapTotalBytes: string;
    /** Histogram with a `kind` label. */
    gcDurationSeconds: string;
    eventLoopLagSeconds: string;
    eventLoopUtilization: string;
    residentMemoryBytes: string;
    cpuSecondsTotal: string;
  };
}

export const DEFAULT_CONTRACT: TelemetryContract = {
  httpServerRequests: {
    name: "http_server_requests_total",
    type: "counter",
    help: "HTTP requests served, by route template and response status.",
    labelKeys: ["method", "route", "status_code"],
  },
  httpServerDuration: {
    name: "http_server_request_duration_seconds",
    type: "histogram",
    help: "Time to serve an HTTP request.",
    labelKeys: ["method", "route", "status_code"],
  },
  httpClientRequests: {
    name: "http_client_requests_total",
    type: "counter",
    help: "Outbound HTTP requests, by peer service and response status.",
    labelKeys: ["method", "peer_service", "status_code"],
  },
  httpClientDuration: {
    name: "http_client_request_duration_seconds",
    type: "histogram",
    help: "Time of an outbound HTTP request.",
    labelKeys: ["method", "peer_service", "status_code"],
  },
  grpcServerHandled: {
    name: "grpc_server_handled_total",
    type: "counter",
    help: "gRPC calls handled, by method and status code.",
    labelKeys: ["grpc_service", "grpc_method", "grpc_code"],
  },
  grpcServerHandling: {
    name: "grpc_server_handling_seconds",
    type: "histogram",
    help: "Time to handle a gRPC call.",
    labelKeys: ["grpc_service", "grpc_method", "grpc_code"],
  },
  grpcClientHandled: {
    name: "grpc_client_handled_total",
    type: "counter",
    help: "gRPC calls made, by method and status code.",
    labelKeys: ["grpc_service", "grpc_method", "grpc_code"],
  },
  grpcClientHandling: {
    name: "grpc_client_handling_seconds",
    type: "histogram",
    help: "Time of an outbound gRPC call.",
    labelKeys: ["grpc_service", "grpc_method", "grpc_code"],
  },
  faultsInjected: {
    name: "meshproof_faults_injected_total",
    type: "counter",
    help: "Faults applied by the admin API, by kind and target (ground truth for fault-driven errors).",
    labelKeys: ["kind", "target"],
  },
  requestIdAttribute: "meshproof.request_id",
  runtime: {
    heapUsedBytes: "nodejs_heap_size_used_bytes",
    heapTotalBytes: "nodejs_heap_size_total_bytes",
    gcDurationSeconds: "nodejs_gc_duration_seconds",
    eventLoopLagSeconds: "nodejs_eventloop_lag_seconds",
    eventLoopUtilization: "nodejs_eventloop_utilization_ratio",
    residentMemoryBytes: "process_resident_memory_bytes",
    cpuSecondsTotal: "process_cpu_seconds_total",
  },
};
