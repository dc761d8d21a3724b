import { BUILTIN_CONTRACTS, type TelemetryContract } from "../../assertions/contract";
import type { ToxiproxyClient } from "../backends/toxiproxy";
import { LOOPBACK } from "../util/ports";
import { AdminClient } from "./admin-client";
import type { LaunchedService, ServiceLaunch } from "./launcher";
import type { ServicePlan } from "./mesh-plan";
import { MESH_SERVICES, SAMPLE_MESH, type MeshLink, type MeshServiceName } from "./sample-mesh";
import { serviceInfo, type MeshService, type StartedMesh } from "./started-mesh";

/** One running service of the sample mesh, a process or a container. */
export interface SampleService extends MeshService {
  name: MeshServiceName;
  metricsUrl: string;
  healthzUrl: string;
  readyzUrl: string;
  /** Main port (HTTP or gRPC). */
  port: number;
  /** Port serving /metrics, /healthz, /readyz (the main port for HTTP services). */
  opsPort: number;
  adminPort: number;
  admin: AdminClient;
  /** stdout/stderr of the service. */
  logFile: string;
  jsonLogFile: string;
  /** Host pid of its main process (follows a restart). */
  readonly pid: number;
  /** The process or container it runs as. */
  handle: LaunchedService;
  control: LaunchedService;
}

/** The sample mesh, as native processes or containers. */
export interface SampleMesh extends StartedMesh {
  readonly services: Record<MeshServiceName, SampleService>;
  /** http://127.0.0.1:PORT of the gateway (= edgeUrl). */
  readonly gatewayUrl: string;
  readonly links: Record<MeshLink, string>;
  pids(): number[];
}

/** @deprecated the sample mesh is not always native processes: SampleMesh. */
export type NativeMesh = SampleMesh;
/** @deprecated SampleService. */
export type NativeService = SampleService;

/** The mesh's view of a launched service: its URLs, admin client and contract; pid and control follow the handle. */
export function sampleService(
  plan: ServicePlan,
  launch: ServiceLaunch,
  handle: LaunchedService,
  token: string,
  contract: TelemetryContract | undefined,
): SampleService {
  const ops = `http://${LOOPBACK}:${plan.opsPort}`;
  return {
    name: plan.name,
    protocol: SAMPLE_MESH[plan.name].protocol,
    role: SAMPLE_MESH[plan.name].role,
    impl: plan.impl,
    instance: `${LOOPBACK}:${plan.opsPort}`,
    contract: contract ?? BUILTIN_CONTRACTS[plan.impl],
    operations: SAMPLE_MESH[plan.name].operations,
    port: plan.port,
    opsPort: plan.opsPort,
    adminPort: plan.adminPort,
    metricsUrl: `${ops}/metrics`,
    healthzUrl: `${ops}/healthz`,
    readyzUrl: `${ops}/readyz`,
    admin: new AdminClient(`http://${LOOPBACK}:${plan.adminPort}`, token),
    logFile: launch.logFile,
    jsonLogFile: plan.env.MESHPROOF_LOG_FILE!,
    get pid() {
      return handle.pid;
    },
    handle,
    control: handle,
  };
}

/** What a started sample mesh is made of. */
export interface SampleMeshParts {
  /** The launcher's kind ("native processes", "containers"). */
  kind: string;
  /** The ready services in START_ORDER (pids() reads this array). */
  started: SampleService[];
  gatewayPort: number;
  toxiproxy: ToxiproxyClient;
  /** Each link's Toxiproxy proxy name. */
  proxies: Record<MeshLink, string>;
  /** The Prometheus job its services are scraped under. */
  scrapeJob: string;
  /** Stops everything startMesh started; stop() runs it once. */
  release: () => Promise<void>;
}

/** The started sample mesh: its services, edge URL and links, flush, and an idempotent stop. */
export function sampleMesh(parts: SampleMeshParts): SampleMesh {
  const { kind, started, gatewayPort, toxiproxy, proxies, scrapeJob, release } = parts;
  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<MeshServiceName, SampleService>;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= release());
  const gatewayUrl = `http://${LOOPBACK}:${gatewayPort}`;
  return {
    kind,
    services,
    edgeUrl: gatewayUrl,
    gatewayUrl,
    links: proxies,
    toxiproxy,
    scrapeJob,
    exportIntervalMs: 0,
    serviceInfos: () => MESH_SERVICES.map((n) => serviceInfo(services[n])),
    pids: () => started.map((s) => s.pid),
    flush: async () => {
      await Promise.all(started.filter((s) => s.handle.running).map((s) => s.admin.flush()));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
