import { ALL_FAMILIES } from "../../assertions/evidence";
import type { ErrorSurface, ReadinessFlip } from "../../assertions/expectations";
import type { Scenario } from "./scenario-model";
import { allHops, edgeOf, isLeaf, linkOf, routesByLength, toDatastore, type MeshTopology } from "./topology";

/** Why a template does not bind to a mesh, and what would make it bind. */
export interface Unbound {
  template: string;
  reason: string;
  /** The template's file, set by the loader. */
  file?: string;
}

/**
 * A scenario over roles, not names: bound to a mesh's topology, it picks its targets by their place in the call
 * graph and derives its expectations from what the mesh declares (routes, links, error table, probe model). The
 * bound scenario is named after what it hit where the template says so ("payments-errors", "redis-outage").
 */
export interface ScenarioTemplate {
  /** The template's id (its file name). */
  template: string;
  /** What it exercises, in one line (for --list when it does not bind). */
  summary: string;
  bind(mesh: MeshTopology): Scenario | Unbound;
}

/** Declares a template; the catalog loader binds it to the mesh under test and validates what it binds to. */
export function defineTemplate(template: ScenarioTemplate): ScenarioTemplate {
  return template;
}

export function isUnbound(bound: Scenario | Unbound): bound is Unbound {
  return "reason" in bound;
}

/** A leaf service's operation on a route: what "a leaf RPC method" binds to. */
export interface LeafCall {
  service: string;
  method?: string;
  route: string;
  /** The link into the service, where the mesh declares one. */
  link?: string;
}

/**
 * The leaf calls of the longest route first, in call order (then the other routes'): services that call nothing but
 * datastores, reached over HTTP or gRPC.
 */
export function leafCalls(mesh: MeshTopology, protocol?: "grpc" | "http"): LeafCall[] {
  return routesByLength(mesh).flatMap(([route, r]) =>
    r.hops
      .filter((h) => (h.protocol === "grpc" || h.protocol === "http") && (!protocol || h.protocol === protocol))
      .filter((h) => !toDatastore(mesh, h) && isLeaf(mesh, h.to))
      .map((h) => {
        const link = linkOf(mesh, h);
        return { service: h.to, ...(h.method ? { method: h.method } : {}), route, ...(link ? { link } : {}) };
      }),
  );
}

/**
 * The leaf call the error, kill and freeze scenarios hit: the last leaf call of the longest route, gRPC first (a
 * status code is most telling there), else of any route.
 */
export function lastLeafCall(mesh: MeshTopology): LeafCall | undefined {
  const longest = routesByLength(mesh)[0]?.[0];
  const last = (calls: LeafCall[]) => calls.filter((c) => c.route === longest).at(-1) ?? calls.at(-1);
  return last(leafCalls(mesh, "grpc")) ?? last(leafCalls(mesh));
}

/** Links to a datastore, in the order the routes call them. */
export function datastoreLinks(mesh: MeshTopology): { link: string; datastore: string }[] {
  const seen = new Set<string>();
  return allHops(mesh).flatMap((h) => {
    const link = linkOf(mesh, h);
    if (!link || seen.has(link) || mesh.services[h.to]?.role !== "datastore") return [];
    seen.add(link);
    return [{ link, datastore: h.to }];
  });
}

/** The links of the longest route first, in call order, without datastore links. */
export function serviceLinks(mesh: MeshTopology): string[] {
  const seen = new Set<string>();
  return routesByLength(mesh).flatMap(([, r]) =>
    r.hops.flatMap((h) => {
      const link = linkOf(mesh, h);
      if (!link || seen.has(link) || toDatastore(mesh, h)) return [];
      seen.add(link);
      return [link];
    }),
  );
}

/** The leaf service on the most routes (ties: the first on the longest route). */
export function busiestLeaf(mesh: MeshTopology): string | undefined {
  const calls = leafCalls(mesh);
  const routes = (service: string) => new Set(calls.filter((c) => c.service === service).map((c) => c.route)).size;
  return calls.map((c) => c.service).sort((a, b) => routes(b) - routes(a))[0];
}

/** Each route at the same weight: the plain mix of baseline and sampling. */
export function evenRoutes(mesh: MeshTopology): { route: string; weight: number }[] {
  return Object.keys(mesh.routes).map((route) => ({ route, weight: 1 }));
}

/** The routes at their declared weights: the mix of every load the catalog drives. */
export function loadRoutes(mesh: MeshTopology): { route: string; weight: number }[] {
  return Object.entries(mesh.routes).map(([route, r]) => ({ route, weight: r.weight ?? 1 }));
}

/**
 * The most of a mesh's capacity a scenario at a fixed rate takes: on a mesh whose capacity is under twice its rate,
 * it is slowed to half the capacity (the same requests over longer), so a slow mesh is judged, not overloaded.
 */
export const HALF_CAPACITY = 0.5;

/**
 * The load of the fault scenarios: 20 req/s, 1.5 s warm-up then 6.5 s in which the faults sit (from +2 s). Small
 * enough for two cores, large enough for a binomial bound on a 20% error rate.
 */
export function faultScenarioLoad(mesh: MeshTopology) {
  return {
    ratePerSec: 20,
    durationMs: 6_500,
    warmupMs: 1_500,
    routes: loadRoutes(mesh),
    maxShareOfCapacity: HALF_CAPACITY,
  };
}

/**
 * A scenario's expectations over the mesh: every family, its routes' hops, and what its faults must show in metrics
 * (error surfaces) and probes (readiness flips) where a template derived them.
 */
export function meshExpectations(
  mesh: MeshTopology,
  shown: { errorSurfaces?: ErrorSurface[] | undefined; readinessFlips?: ReadinessFlip[] | undefined } = {},
) {
  return {
    families: [...ALL_FAMILIES],
    topology: hopsByRoute(mesh),
    ...(shown.errorSurfaces ? { metrics: { errorSurfaces: shown.errorSurfaces } } : {}),
    ...(shown.readinessFlips?.length ? { probes: { readinessFlips: shown.readinessFlips } } : {}),
  };
}

/** The routes as the expectations' topology: each route's hops in call order. */
export function hopsByRoute(mesh: MeshTopology) {
  return Object.fromEntries(Object.entries(mesh.routes).map(([route, r]) => [route, r.hops]));
}

export { edgeOf };
