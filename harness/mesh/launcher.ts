import type { Impl, MeshServiceName } from "./sample-mesh";
import type { ServiceControl } from "./started-mesh";

/** How the services are launched. */
export type TelemetryMode =
  /** --require telemetry.js, tracing on (the default). */
  | "full"
  /** --require telemetry.js with OTEL_SDK_DISABLED=true (modules patched, no spans). */
  | "sdk-disabled"
  /** No preload at all (the overhead baseline). */
  | "none";

/**
 * One service as startMesh planned it: everything but where it runs. The same plan (ports, environment,
 * downstreams through Toxiproxy) goes to a process or a container.
 */
export interface ServiceLaunch {
  name: MeshServiceName;
  impl: Impl;
  /** Its whole configuration: ports, admin token, downstreams, log file, OTLP endpoint, the user's OTEL_*. */
  env: Record<string, string>;
  /** Extra node flags after NODE_FLAGS (Node services only). */
  nodeArgs: readonly string[];
  telemetry: TelemetryMode;
  /** Directory of its log files (MESHPROOF_LOG_FILE is in it); a container gets it bind-mounted at the same path. */
  logDir: string;
  /** Where its stdout and stderr go. */
  logFile: string;
}

/** A launched service: what the mesh reads of it and its process faults. */
export interface LaunchedService extends ServiceControl {
  /** Host pid of the service's own process (in a container: the child of its init); changes when it is started again. */
  readonly pid: number;
  /** The container's id, when it runs in one. */
  readonly containerId?: string;
  readonly running: boolean;
  /** How it ended ("exited with code 0", "killed by SIGKILL"), once it has. */
  readonly exitDescription: string | undefined;
  /** The last lines of its stdout/stderr log. */
  logTail(lines?: number): string;
  /** Stops it for good (SIGTERM, SIGKILL after a grace period) and releases it (a container is removed). Idempotent. */
  dispose(): Promise<void>;
}

/** Where the services of the sample mesh run: native processes or containers. */
export interface ServiceLauncher {
  /** For the report: "native processes", "containers". */
  readonly kind: string;
  /** Starts one service; resolves once it runs (readiness is startMesh's to wait for). */
  launch(service: ServiceLaunch): Promise<LaunchedService>;
}
