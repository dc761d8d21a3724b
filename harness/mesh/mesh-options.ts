import type { TelemetryContract } from "../../assertions/contract";
import { ConfigError } from "../errors";
import type { ServiceLauncher, TelemetryMode } from "./launcher";
import { checkDefects, MESH_SERVICES, SAMPLE_MESH, type Impl, type MeshServiceName } from "./sample-mesh";

/** How startMesh starts the sample mesh; every field has a default. */
export interface MeshOptions {
  /** Where logs/<service>.log and logs/<service>.jsonl go. Default: stack.runDir. */
  runDir?: string;
  /** Defects to switch on: "name" in every service, "service:name" in one. Default: none. */
  defects?: string[];
  /** Seed of the services' fault decisions. Default 1. */
  seed?: number;
  /** Root sampling ratio. Default 1.0. */
  samplingRatio?: number;
  /** Admin bearer token. Default: random per mesh. */
  adminToken?: string;
  /** Default "full". */
  telemetry?: TelemetryMode;
  /** Extra node flags per service (e.g. --cpu-prof for the benchmark). */
  nodeArgs?: Partial<Record<MeshServiceName, string[]>>;
  /** Readiness deadline of the whole mesh. Default 30000. */
  readyTimeoutMs?: number;
  /** Which implementation each service runs. Default: node everywhere. */
  impl?: Partial<Record<MeshServiceName, Impl>>;
  /** The contract each service is judged by. Default: its implementation's built-in contract. */
  contracts?: Partial<Record<MeshServiceName, TelemetryContract>>;
  /**
   * Environment every service gets on top of the harness's own (default: the OTEL_* variables the harness was given,
   * which the services' OpenTelemetry SDKs honour over their own defaults).
   */
  env?: Record<string, string>;
  /** Extra environment per service (wins over `env`): `--service-env payments:OTEL_BSP_MAX_QUEUE_SIZE=64`. */
  serviceEnv?: Partial<Record<MeshServiceName, Record<string, string>>>;
  /** Where the services run. Default: native processes (processLauncher()); containers: ContainerLauncher. */
  launcher?: ServiceLauncher;
  /**
   * Keeps this mesh's names apart from other meshes on the same stack (run with --workers): its Prometheus job is
   * "mesh-NAMESPACE" and its Toxiproxy proxies "NAMESPACE-link". Default: none (job "mesh", proxies named by link).
   */
  namespace?: string;
  /** Aborts the start while it waits for readiness (SIGINT/SIGTERM); what started is stopped. */
  signal?: AbortSignal;
}

/** The implementation a service runs under these options (default "node"). */
export function implOf(options: MeshOptions, name: MeshServiceName): Impl {
  return options.impl?.[name] ?? "node";
}

/**
 * Rejects options no mesh can start with, before anything starts: unknown defects, a sampling ratio outside 0..1, an
 * implementation a service does not have. Throws ConfigError.
 */
export function checkMeshOptions(options: MeshOptions): void {
  checkDefects(options.defects ?? []);
  const ratio = options.samplingRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(`samplingRatio must be within 0..1 (got ${ratio})`);
  for (const name of MESH_SERVICES) {
    const impl = implOf(options, name);
    if (!SAMPLE_MESH[name].impls.includes(impl))
      throw new ConfigError(`${name} has no "${impl}" implementation; valid: ${SAMPLE_MESH[name].impls.join(", ")}`);
  }
}
