import type { Hop, HopProtocol } from "../../assertions/expectations";

/**
 * A mesh as the catalog's templates see it: services with roles, the links faults may act on, the routes the driver
 * sends with their hops, and what the mesh promises about its errors and probes. Data only; the sample mesh's is in
 * sample-topology.ts, a config's is built by the harness. What a mesh does not declare, no template expects of it.
 */
export interface MeshTopology {
  name: string;
  services: Record<string, TopologyService>;
  /** Links by name ("orders-redis"): each can be cut, slowed or reset from outside. */
  links: Record<string, TopologyLink>;
  /** The driver's routes by name ("POST /api/checkout"): their hops in call order and their share of the load mix. */
  routes: Record<string, TopologyRoute>;
  /** Which means of fault injection the mesh offers (a template needing one it lacks does not bind). */
  means: FaultMeans;
}

export interface TopologyService {
  /** edge: receives the driver's requests; datastore: called, not instrumented (Redis, MySQL). */
  role: "edge" | "internal" | "datastore";
  protocol: HopProtocol;
  /** The runtime, where a fault depends on it (an event-loop stall needs "node"). */
  runtime?: "node" | "go" | string;
  /** How it answers when a call it made fails: absent when the mesh does not promise an error mapping. */
  errors?: ErrorTable;
  /** What its probes check: absent when the mesh does not promise a probe model. */
  probes?: ProbeModel;
}

export interface TopologyLink {
  from: string;
  to: string;
  protocol: HopProtocol;
  /** The caller's deadline or timeout on calls over it, where it has one. */
  timeoutMs?: number;
}

export interface TopologyRoute {
  hops: readonly Hop[];
  /** Relative share in the catalog's load mix. Default 1. */
  weight?: number;
}

/** Where faults can be injected, by the means each needs (a template needing means a mesh lacks does not apply). */
export interface FaultMeans {
  /** Services with an admin API: request faults inside the service, memory held, event-loop stalls, CPU burnt. */
  admin: readonly string[];
  /** Services whose process the harness may stop and continue (freeze). */
  signal: readonly string[];
  /** Services the harness can start again after a kill or a stop (kill, restart). */
  restart: readonly string[];
  /** Services whose process the harness may put in a cgroup (CPU throttling, stalls from outside). */
  cgroup: readonly string[];
  /** Links through a proxy the harness controls (Toxiproxy): down, latency, timeout, reset, bandwidth. */
  links: readonly string[];
  /** Links with an L7 fault proxy in front of their callee: request faults from outside. */
  l7: readonly string[];
  /** Sampling ratios the mesh can run with; undefined: any. */
  samplingRatios?: readonly number[];
}

/**
 * A service's answer to a failed downstream call, as the status it answers (its error table): by the callee's gRPC
 * code (or `default`), for a failed datastore call, for an HTTP callee's 5xx or no answer, and for a timeout.
 */
export interface ErrorTable {
  grpc?: Readonly<Record<string, number>> & { default?: number };
  datastore?: number;
  /** A 5xx from an HTTP callee (a 4xx passes through). */
  http5xx?: number;
  /** No answer at all from an HTTP callee (refused, reset). */
  noAnswer?: number;
}

/** What a service's probes check: its dependencies (readiness), its own state (liveness), its drain on SIGTERM. */
export interface ProbeModel {
  /** Readiness checks of dependencies: `on` a service (any failure of it) or a link; `liveness`: only its liveness. */
  readiness?: readonly { check: string; on: string; liveness?: boolean }[];
  /** Liveness checks of its own state, with the bound past which they fail. */
  liveness?: {
    heap?: { check: string; limitBytes: number };
    eventLoop?: { check: string; maxLagMs: number };
  };
  /** On SIGTERM its readiness answers 503 naming this check before the listener closes. */
  drain?: { check: string };
}

/** A service's place in the call graph, from the routes. */
export function callersOf(mesh: MeshTopology, service: string): string[] {
  return unique(allHops(mesh).flatMap((h) => (h.to === service ? [h.from] : [])));
}

/** Whether a hop reaches a datastore: one of the mesh's, or one reached in-process (no service of the mesh). */
export function toDatastore(mesh: MeshTopology, hop: Pick<Hop, "to">): boolean {
  return (mesh.services[hop.to]?.role ?? "datastore") === "datastore";
}

/** Whether a service calls nothing but datastores: a leaf of the call graph. */
export function isLeaf(mesh: MeshTopology, service: string): boolean {
  return allHops(mesh).every((h) => h.from !== service || toDatastore(mesh, h));
}

/** The link a hop crosses, by its ends. */
export function linkOf(mesh: MeshTopology, hop: Pick<Hop, "from" | "to">): string | undefined {
  return Object.entries(mesh.links).find(([, l]) => l.from === hop.from && l.to === hop.to)?.[0];
}

/** The routes in the order of most hops first (ties in declaration order): the longest route first. */
export function routesByLength(mesh: MeshTopology): [string, TopologyRoute][] {
  return Object.entries(mesh.routes)
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => b.entry[1].hops.length - a.entry[1].hops.length || a.i - b.i)
    .map(({ entry }) => entry);
}

/** The edge service (exactly one). */
export function edgeOf(mesh: MeshTopology): string {
  return Object.entries(mesh.services).find(([, s]) => s.role === "edge")![0];
}

/** Every hop of every route, in route then call order. */
export function allHops(mesh: MeshTopology): Hop[] {
  return Object.values(mesh.routes).flatMap((r) => r.hops);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
