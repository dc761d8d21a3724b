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
} as const;

export type DefectName = keyof typeof DEFECTS;
export const DEFECT_NAMES = Object.keys(DEFECTS) as DefectName[];
