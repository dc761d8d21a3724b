import type { BackendToolName, ToolStatus } from "../tools/tools";
import type { StartedJaeger } from "./jaeger";
import type { StartedPrometheus } from "./prometheus";
import type { StartedRedis } from "./redis";
import type { StartedToxiproxy } from "./toxiproxy";
import type { TraceStore } from "./trace-store";
import type { StartedZipkin } from "./zipkin";

/** Where the services send spans and the judge reads them: Jaeger (OTLP), or a Zipkin server (Zipkin's JSON v2). */
export const TRACE_STORE_NAMES = ["jaeger", "zipkin"] as const;
export type TraceStoreName = (typeof TRACE_STORE_NAMES)[number];

/** Ports a user may fix (everything else is chosen free at run time). */
export const STACK_PORT_NAMES = [
  "jaeger-otlp-grpc",
  "jaeger-otlp-http",
  "jaeger-query",
  "prometheus",
  "redis",
  "toxiproxy",
  "zipkin",
] as const;
export type StackPortName = (typeof STACK_PORT_NAMES)[number];

export interface BackendStartOptions {
  /** Tools already resolved (e.g. by provisionTools); default: resolved here. */
  tools?: readonly ToolStatus[];
  /** Fixed ports; a taken one fails the start with PortInUseError. Default: all chosen free at run time. */
  ports?: Partial<Record<StackPortName, number>>;
  /** Jaeger's in-memory store evicts the oldest traces past this. Default 100000. */
  jaegerMaxTraces?: number;
  /**
   * The trace store the services export to and the judge reads. Default "jaeger". "zipkin" also starts a Zipkin server
   * (a native process on either backend: a JVM from the tool cache) and points the services' exporters at it.
   */
  traceStore?: TraceStoreName;
  /** Keep the run directory after a clean stop. Default: MESHPROOF_KEEP_RUN_DIR, else false. */
  keepRunDir?: boolean;
}

/** The running backends of one run. stop() is idempotent; `await using` calls it. */
export interface StartedStack extends AsyncDisposable {
  readonly backend: string;
  /** Per-run directory: configs, data, logs/<tool>.log. */
  readonly runDir: string;
  readonly jaeger: StartedJaeger;
  readonly prometheus: StartedPrometheus;
  readonly redis: StartedRedis;
  readonly toxiproxy: StartedToxiproxy;
  /** Started when the trace store is Zipkin. */
  readonly zipkin?: StartedZipkin;
  readonly traceStore: TraceStoreName;
  readonly traces: TraceStore;
  /**
   * The standard OpenTelemetry variables that point a service's span exporter at the trace store (empty for Jaeger,
   * whose OTLP address the mesh passes as MESHPROOF_OTLP_URL).
   */
  readonly traceExportEnv: Record<string, string>;
  /** Version of each tool in use. */
  readonly tools: Partial<Record<BackendToolName | "zipkin", string>>;
  /** Host pid of every backend process (for orphan checks); in containers, each container's main process. */
  pids(): number[];
  /** Id of every backend container (empty for native processes). */
  containers(): string[];
  stop(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  start(options?: BackendStartOptions): Promise<StartedStack>;
}
