import type { BackendToolName, ToolStatus } from "../tools/tools";
import type { StartedJaeger } from "./jaeger";
import type { StartedPrometheus } from "./prometheus";
import type { StartedRedis } from "./redis";
import type { StartedToxiproxy } from "./toxiproxy";
import type { TraceStore } from "./trace-store";

/** Ports a user may fix (everything else is chosen free at run time). */
export const STACK_PORT_NAMES = [
  "jaeger-otlp-grpc",
  "jaeger-otlp-http",
  "jaeger-query",
  "prometheus",
  "redis",
  "toxiproxy",
] as const;
export type StackPortName = (typeof STACK_PORT_NAMES)[number];

export interface BackendStartOptions {
  /** Tools already resolved (e.g. by provisionTools); default: resolved here. */
  tools?: readonly ToolStatus[];
  /** Fixed ports; a taken one fails the start with PortInUseError. Default: all chosen free at run time. */
  ports?: Partial<Record<StackPortName, number>>;
  /** Jaeger's in-memory store evicts the oldest traces past this. Default 100000. */
  jaegerMaxTraces?: number;
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
  readonly traces: TraceStore;
  /** Version of each tool in use. */
  readonly tools: Record<BackendToolName, string>;
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
