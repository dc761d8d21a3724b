import type { ErrorLayer, Topology } from "../../assertions/expectations";

/** The services of the sample mesh (services/). */
export const MESH_SERVICES = ["gateway", "orders", "inventory", "payments"] as const;
export type MeshService = (typeof MESH_SERVICES)[number];

/** Network links routed through Toxiproxy, by the name network faults target. */
export const MESH_LINKS = [
  "orders-redis",
  "gateway-orders",
  "gateway-inventory",
  "orders-inventory",
  "orders-payments",
] as const;

/** The routes the load driver can send, with the hops each takes. */
export const MESH_TOPOLOGY: Topology = {
  "POST /api/checkout": [
    { from: "gateway", to: "orders", protocol: "http" },
    { from: "orders", to: "inventory", protocol: "grpc" },
    { from: "orders", to: "payments", protocol: "grpc" },
    { from: "orders", to: "redis", protocol: "redis" },
  ],
  "GET /api/products/:sku": [{ from: "gateway", to: "inventory", protocol: "grpc" }],
};

/**
 * The error-mapping table the mesh implements: a gRPC code from a downstream call becomes this HTTP status at the
 * HTTP service that made the call, and travels unchanged to the edge. A dependency of the service's own (Redis)
 * that is down answers DEPENDENCY_DOWN_STATUS. Never 200, never a generic 500 for an infrastructure error.
 */
export const GRPC_TO_HTTP_STATUS: Readonly<Record<string, number>> = {
  UNAVAILABLE: 502,
  DEADLINE_EXCEEDED: 504,
  RESOURCE_EXHAUSTED: 503,
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
};
export const DEPENDENCY_DOWN_STATUS = 503;

/**
 * The layers an error crosses on the way from the checkout's call into `service` to the edge, each with the code it
 * must carry there: the error-mapping table applied to the checkout path.
 */
export function checkoutErrorLayers(
  cause: { service: string; method: string; grpcCode: string } | "redis",
): ErrorLayer[] {
  const status = String(cause === "redis" ? DEPENDENCY_DOWN_STATUS : (GRPC_TO_HTTP_STATUS[cause.grpcCode] ?? 500));
  const grpc: ErrorLayer[] =
    cause === "redis"
      ? []
      : [
          { service: cause.service, metric: "grpcServer", code: cause.grpcCode, method: cause.method },
          { service: "orders", metric: "grpcClient", code: cause.grpcCode, method: cause.method },
        ];
  return [
    ...grpc,
    { service: "orders", metric: "httpServer", code: status },
    { service: "gateway", metric: "httpClient", code: status, peer: "orders" },
    { service: "gateway", metric: "httpServer", code: status },
  ];
}
