import type { TelemetryContract } from "../../assertions/contract";
import type { ServiceInfo } from "../../assertions/evidence";
import type { ToxiproxyClient } from "../backends/toxiproxy";
import type { L7ProxyClient } from "../faults/l7-proxy/client";
import type { AdminClient } from "./admin-client";

/**
 * One service of a running mesh, as the run loop needs it: where to probe and scrape it, and what the harness can
 * do to it. A capability the mesh does not offer is absent, and the scenarios that need it are "not applicable".
 */
export interface MeshService {
  name: string;
  protocol: "http" | "grpc";
  role: "edge" | "internal";
  /** Which implementation runs ("node", "go", or "external" for a mesh meshproof did not start). */
  impl: string;
  /** host:port of its /metrics: the `instance` label Prometheus gives its series ("" when it exposes none). */
  instance: string;
  /** Its /metrics (its own, or one it shares with other services); absent when it exposes none. */
  metricsUrl?: string;
  /** Its probes; absent when it has none (nothing is polled, nothing promised). */
  healthzUrl?: string;
  readyzUrl?: string;
  /** What says it is ready after a start (its readyz by default). */
  readyUrl?: string;
  /** The contract it is judged by. */
  contract: TelemetryContract;
  /** Declared route templates / gRPC methods (hygiene.route-labels). */
  operations?: string[];
  /** Its admin API (service faults, flush); absent when the harness may not inject faults into it. */
  admin?: AdminClient;
  /** Its structured log lines (correlation.logs); absent when the mesh does not share them. */
  jsonLogFile?: string;
  /** Its stdout/stderr, when the harness captures them. */
  logFile?: string;
  /** Its process group, when the harness may signal it (process faults). */
  pid?: number;
  /** Process faults on it (signals for a native process, docker kill/pause/restart for a container). */
  control?: ServiceControl;
}

/**
 * What the harness can do to a service's process: the process faults. Native processes take signals to their process
 * group; containers the matching docker commands. Every method resolves once the effect is in place.
 */
export interface ServiceControl {
  /** SIGKILL (docker kill): gone at once, no drain; in-flight calls fail at their callers. */
  kill(): Promise<void>;
  /** SIGSTOP (docker pause): alive but answering nothing. */
  freeze(): Promise<void>;
  /** SIGCONT (docker unpause). */
  thaw(): Promise<void>;
  /** Starts it again with the same ports and environment after a kill (or a graceful stop); resolves once started. */
  start(): Promise<void>;
  /** SIGTERM (docker stop): the service drains (readiness 503 first) and exits; resolves once it has exited. */
  stopGracefully(): Promise<void>;
}

/** A running mesh, whoever started it. stop() is idempotent (and leaves a mesh the harness did not start alone). */
export interface StartedMesh extends AsyncDisposable {
  /** How it runs, for the report ("native processes", "external (meshproof.config.ts)"). */
  readonly kind: string;
  readonly services: Readonly<Record<string, MeshService>>;
  /** Base URL of the edge service the driver sends requests to. */
  readonly edgeUrl: string;
  /** The mesh's network links routed through Toxiproxy: link name ("orders-redis") -> proxy name. */
  readonly links: Readonly<Record<string, string>>;
  readonly toxiproxy?: ToxiproxyClient;
  /** Each link's ends, by link name. */
  readonly linkEnds?: Readonly<Record<string, { from: string; to: string }>>;
  /** The L7 fault proxy in front of the links' callees (a proxy per link, named after it), where there is one. */
  readonly l7?: L7ProxyClient;
  /** The Prometheus job that scrapes the services. */
  readonly scrapeJob: string;
  /** How long spans may sit in a service's exporter after a flush was asked (0 when flush is forced). */
  readonly exportIntervalMs: number;
  serviceInfos(): ServiceInfo[];
  /** Exports every service's finished spans and log lines now (where the mesh lets the harness). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * ServiceInfo for the judge, from a mesh service: with what the harness reads of it (its probes, its structured
 * log), so the judge tells a service that has none from one whose records are missing.
 */
export function serviceInfo(s: MeshService): ServiceInfo {
  return {
    name: s.name,
    role: s.role,
    protocol: s.protocol,
    instance: s.instance,
    contract: s.contract,
    impl: s.impl,
    ...(s.operations ? { operations: s.operations } : {}),
    probes: [...(s.healthzUrl ? ["healthz" as const] : []), ...(s.readyzUrl ? ["readyz" as const] : [])],
    structuredLog: s.jsonLogFile !== undefined,
  };
}
