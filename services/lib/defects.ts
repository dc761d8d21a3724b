/**
 * Negative controls: known instrumentation bugs a service switches on through MESHPROOF_DEFECTS. Each changes
 * exactly what its `effect` says and nothing else, so a suite that misses it has a named blind spot.
 */
export const DEFECTS = {
  "drop-context": {
    effect: "orders calls payments under the root context: payments' spans land in a trace of their own.",
    models: "A callback or queue hop that loses the async context (a bare setTimeout, an event emitter, a pool).",
  },
  "status-label-200": {
    effect: 'server RED metrics label every error as status_code="200" (HTTP) / grpc_code="OK" (gRPC).',
    models: "Middleware that records the status before the error handler sets it (res.statusCode read too early).",
  },
  "readyz-ignores-redis": {
    effect: "orders' /readyz leaves out the Redis check: it says ready while Redis is down.",
    models: "A readiness probe that only checks the process itself, so the load balancer keeps sending traffic.",
  },
  "no-runtime-metrics": {
    effect: "no prom-client default metrics and no event-loop utilisation on /metrics.",
    models: "Forgetting collectDefaultMetrics() (or calling it on a registry that is not served).",
  },
  "default-registry": {
    effect: "RED metrics are registered on prom-client's global registry while /metrics serves the service's own.",
    models: "Two registries in one process: metrics created with the default `registers` never reach the endpoint.",
  },
  "raw-path-route": {
    effect: 'HTTP server metrics label `route` with the raw URL path ("/api/products/sku-3"), not the template.',
    models: "Labelling with req.path (or req.originalUrl) because the router's template is not at hand.",
  },
  "histogram-ms": {
    effect: "HTTP server durations are observed in milliseconds into the _seconds histogram.",
    models: "A timer in ms (Date.now() deltas) fed to a histogram whose name and buckets promise seconds.",
  },
  "log-outside-context": {
    effect: "HTTP access log lines are written outside the request's context: no trace_id, span_id or request_id.",
    models: "Logging from a callback that lost the async context, with a logger that reads ids from the context.",
  },
  "exemplar-previous-request": {
    effect: "The HTTP server duration histogram's exemplar carries the previous request's trace id.",
    models: "A trace id kept in a variable shared across requests (a module-level 'current' id).",
  },
  "grpc-span-code-ok": {
    effect: "gRPC server spans record rpc.grpc.status_code OK on failed calls (their status is still ERROR).",
    models: "Setting the status-code attribute from the handler's return before the error path runs.",
  },
  "client-counter-ok-only": {
    effect: "The gRPC client interceptor counts and times only calls that returned OK.",
    models: "Recording metrics in the success callback only, so failures never reach the client's counters.",
  },
  "liveness-checks-redis": {
    effect: "orders' /healthz also pings Redis, so liveness fails while Redis is down.",
    models: "A liveness probe that checks dependencies: a dependency outage restarts healthy pods.",
  },
  "elu-frozen": {
    effect: "The event-loop utilisation gauge is computed once at start and never again.",
    models: "A gauge set once at start-up, never sampled again.",
  },
  "request-id-regenerated": {
    effect: "gRPC services ignore the incoming x-request-id and generate their own.",
    models: "Request-id middleware that only generates ids, never reads the header/metadata it was sent.",
  },
  "healthz-ignores-stall": {
    effect: "/healthz leaves out the event-loop check: a blocked loop still answers 200 (between blocks).",
    models: "A liveness probe that only checks that the process answers, so a wedged loop is never restarted.",
  },
  "force-sampled-outgoing": {
    effect: "gRPC clients send sampled=1 on every outgoing call, whatever the incoming request's sampling decision.",
    models: "A propagator or interceptor that sets the sampled flag itself: unsampled requests leave partial traces.",
  },
  "no-drain": {
    effect: "On SIGTERM the process flushes its spans and logs and exits: no readiness 503 first, calls in flight cut.",
    models: "A SIGTERM handler that shuts the telemetry SDK down and calls process.exit(), draining nothing.",
  },
} as const;

export type DefectName = keyof typeof DEFECTS;
export const DEFECT_NAMES = Object.keys(DEFECTS) as DefectName[];
