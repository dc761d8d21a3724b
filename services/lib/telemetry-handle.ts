/** The span pipeline's own accounting: spans started and ended by the SDK, delivered or failed by the exporter. */
export interface SpanCounts {
  started: number;
  ended: number;
  exported: number;
  exportFailures: number;
}

/** What a service can ask of the tracing SDK, whether or not it was preloaded. */
export interface TelemetryHandle {
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK. */
  shutdown(): Promise<void>;
  /** The effective tracing configuration (the kit's defaults and the OTEL_* that won) and the span counts. */
  stats(): { config: Record<string, unknown>; spans: SpanCounts };
}

const NOOP: TelemetryHandle = {
  flush: async () => {},
  shutdown: async () => {},
  stats: () => ({
    config: { tracing: "off (no preload)" },
    spans: { started: 0, ended: 0, exported: 0, exportFailures: 0 },
  }),
};
let current: TelemetryHandle = NOOP;

/** Called by the telemetry preload (telemetry.ts) once its SDK started. */
export function registerTelemetry(handle: TelemetryHandle): void {
  current = handle;
}

/** The preloaded SDK, or a no-op when the service runs without the preload (the overhead baseline). */
export function telemetry(): TelemetryHandle {
  return current;
}

/** Paths never traced: the harness polls probes every 100 ms, Prometheus scrapes every second, admin is control. */
export function isUntracedRequest(request: { url?: string }): boolean {
  const path = (request.url ?? "").split("?")[0] ?? "";
  return (
    path === "/metrics" || path === "/healthz" || path === "/readyz" || path === "/admin" || path.startsWith("/admin/")
  );
}
