import type { Topology } from "../../assertions/expectations";
import type { MeshTopology, ProbeModel, TopologyLink } from "./topology";

/** The services of the sample mesh (services/). */
export const MESH_SERVICES = ["gateway", "orders", "inventory", "payments"] as const;
export type MeshServiceName = (typeof MESH_SERVICES)[number];

/** Network links routed through Toxiproxy, by the name network faults target. */
export const MESH_LINKS = [
  "gateway-orders",
  "gateway-inventory",
  "orders-inventory",
  "orders-payments",
  "orders-redis",
] as const;
export type MeshLink = (typeof MESH_LINKS)[number];

export const CHECKOUT = "POST /api/checkout";
export const PRODUCT = "GET /api/products/:sku";

/** The routes the load driver can send, with the hops each takes. */
export const MESH_TOPOLOGY: Topology = {
  "POST /api/checkout": [
    { from: "gateway", to: "orders", protocol: "http", method: "POST /orders" },
    { from: "orders", to: "inventory", protocol: "grpc", method: "Reserve" },
    { from: "orders", to: "payments", protocol: "grpc", method: "Charge" },
    { from: "orders", to: "redis", protocol: "redis" },
  ],
  "GET /api/products/:sku": [{ from: "gateway", to: "inventory", protocol: "grpc", method: "GetProduct" }],
};

/** The sample mesh's Node services' liveness: heap under 256 MiB, event-loop delay p99 under 500 ms. */
const NODE_LIVENESS: ProbeModel["liveness"] = {
  heap: { check: "heap", limitBytes: 256 * 2 ** 20 },
  eventLoop: { check: "eventLoop", maxLagMs: 500 },
};

/** The gRPC deadline orders and gateway set on their calls. */
const GRPC_DEADLINE_MS = 2_000;

/**
 * The sample mesh (services/) as the catalog's templates see it: its routes and links, the error table every
 * service applies (services/lib/error-map.ts states the same), and its probes' checks. `impl` names services that
 * run another implementation (payments=go: a Go runtime, no event loop).
 */
export function sampleTopology(
  impl: Partial<Record<string, string>> = {},
  means: Partial<MeshTopology["means"]> = {},
): MeshTopology {
  const runtime = (service: string) => (impl[service] === "go" ? "go" : "node");
  const leafProbes = (service: string): ProbeModel => ({
    ...(runtime(service) === "node" ? { liveness: NODE_LIVENESS } : {}),
    drain: { check: "draining" },
  });
  const links = Object.fromEntries(
    MESH_LINKS.map((name) => {
      const [from, to] = name.split("-") as [string, string];
      const protocol: TopologyLink["protocol"] = to === "redis" ? "redis" : to === "orders" ? "http" : "grpc";
      const link: TopologyLink = {
        from,
        to,
        protocol,
        ...(protocol === "grpc" ? { timeoutMs: GRPC_DEADLINE_MS } : {}),
      };
      return [name, link];
    }),
  );
  return {
    name: "sample mesh",
    services: {
      gateway: {
        role: "edge",
        protocol: "http",
        runtime: "node",
        errors: { grpc: { NOT_FOUND: 404, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, default: 502 }, http5xx: 502 },
        probes: {
          readiness: [
            { check: "orders", on: "orders", liveness: true },
            { check: "inventory", on: "inventory" },
          ],
          liveness: NODE_LIVENESS,
          drain: { check: "draining" },
        },
      },
      orders: {
        role: "internal",
        protocol: "http",
        runtime: "node",
        errors: {
          grpc: {
            INVALID_ARGUMENT: 400,
            NOT_FOUND: 404,
            FAILED_PRECONDITION: 409,
            UNAVAILABLE: 503,
            DEADLINE_EXCEEDED: 503,
            default: 500,
          },
          datastore: 503,
        },
        probes: {
          readiness: [
            { check: "redis", on: "orders-redis" },
            { check: "inventory", on: "inventory" },
            { check: "payments", on: "payments" },
          ],
          liveness: NODE_LIVENESS,
          drain: { check: "draining" },
        },
      },
      inventory: { role: "internal", protocol: "grpc", runtime: runtime("inventory"), probes: leafProbes("inventory") },
      payments: { role: "internal", protocol: "grpc", runtime: runtime("payments"), probes: leafProbes("payments") },
      redis: { role: "datastore", protocol: "redis" },
    },
    links,
    routes: {
      [CHECKOUT]: { hops: MESH_TOPOLOGY[CHECKOUT]!, weight: 3 },
      [PRODUCT]: { hops: MESH_TOPOLOGY[PRODUCT]!, weight: 1 },
    },
    means: {
      admin: MESH_SERVICES,
      signal: MESH_SERVICES,
      restart: MESH_SERVICES,
      cgroup: [],
      links: MESH_LINKS,
      l7: [],
      ...means,
    },
  };
}
