import type { ErrorLayer, Topology } from "../../assertions/expectations";

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
/** The route mix of every load the catalog drives, and of the capacity measurement: 3 checkouts per product lookup. */
export const LOAD_ROUTES = [
  { route: CHECKOUT, weight: 3 },
  { route: PRODUCT, weight: 1 },
] as const;

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

/** Every assertion family: each scenario judges them all. */
export { ALL_FAMILIES } from "../../assertions/evidence";

/**
 * The load of the fault scenarios: 20 req/s, 3:1 checkout:product, 1.5 s warm-up then 6.5 s in which the faults sit
 * (from +2 s). Small enough for two cores, large enough for a binomial bound on a 20% error rate.
 */
export const FAULT_SCENARIO_LOAD = {
  ratePerSec: 20,
  durationMs: 6_500,
  warmupMs: 1_500,
  routes: LOAD_ROUTES,
};

/**
 * The error-mapping table the mesh must implement (services/lib/error-map.ts states the same table; this is the
 * independent expectation): a gRPC code from inventory/payments becomes ORDERS_STATUS_FOR_GRPC at orders, a Redis
 * failure ORDERS_STATUS_REDIS_ERROR, and the gateway answers GATEWAY_STATUS_FOR_ORDERS_5XX for any orders 5xx.
 * Never 200, never a generic 500 for an infrastructure error.
 */
export const ORDERS_STATUS_FOR_GRPC: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 409,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 503,
};
export const ORDERS_STATUS_REDIS_ERROR = 503;
export const GATEWAY_STATUS_FOR_ORDERS_5XX = 502;

/** gateway's GET /api/products/:sku answers these for an inventory error code (anything else: 502). */
export const GATEWAY_STATUS_FOR_INVENTORY: Readonly<Record<string, number>> = {
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
};

/**
 * The counters an error crosses from the checkout's failing call to the edge, each with the code the table says it
 * carries there. `answered: false` when the callee never answered (its process dead, the link cut): its server
 * counters see nothing.
 */
export function checkoutErrorLayers(
  cause: { service: string; method: string; grpcCode: string; answered?: boolean } | "redis",
): ErrorLayer[] {
  const orders = cause === "redis" ? ORDERS_STATUS_REDIS_ERROR : (ORDERS_STATUS_FOR_GRPC[cause.grpcCode] ?? 500);
  const gateway = orders >= 500 ? GATEWAY_STATUS_FOR_ORDERS_5XX : orders;
  const grpc: ErrorLayer[] =
    cause === "redis"
      ? []
      : [
          ...(cause.answered === false
            ? []
            : [{ service: cause.service, metric: "grpcServer" as const, code: cause.grpcCode, method: cause.method }]),
          { service: "orders", metric: "grpcClient", code: cause.grpcCode, method: cause.method },
        ];
  return [
    ...grpc,
    { service: "orders", metric: "httpServer", code: String(orders) },
    { service: "gateway", metric: "httpClient", code: String(orders), peer: "orders" },
    { service: "gateway", metric: "httpServer", code: String(gateway), route: CHECKOUT },
  ];
}

/**
 * The counters an error of inventory's GetProduct crosses to the edge (gateway calls inventory directly), for one
 * gRPC code or several (their increases add up at each layer).
 */
export function productErrorLayers(grpcCodes: string | string[], answered = true): ErrorLayer[] {
  const codes = typeof grpcCodes === "string" ? [grpcCodes] : grpcCodes;
  const statuses = [...new Set(codes.map((c) => String(GATEWAY_STATUS_FOR_INVENTORY[c] ?? 502)))];
  return [
    ...(answered ? [{ service: "inventory", metric: "grpcServer" as const, code: codes, method: "GetProduct" }] : []),
    { service: "gateway", metric: "grpcClient", code: codes, method: "GetProduct" },
    { service: "gateway", metric: "httpServer", code: statuses, route: PRODUCT },
  ];
}

/**
 * The codes an overload may leave at each layer (exact: false): calls time out anywhere, and the error table maps a
 * timeout like any other failure (DEADLINE_EXCEEDED or a broken connection's UNAVAILABLE, 503 at orders, 502/504 at
 * the edge, no answer at all at the gateway's HTTP client). Anything else is a code the table does not give.
 */
export function overloadErrorLayers(): ErrorLayer[] {
  const grpc = ["DEADLINE_EXCEEDED", "UNAVAILABLE"];
  return [
    { service: "inventory", metric: "grpcServer", code: [...grpc, "CANCELLED"] },
    { service: "payments", metric: "grpcServer", code: [...grpc, "CANCELLED"] },
    { service: "orders", metric: "grpcClient", code: grpc },
    { service: "orders", metric: "httpServer", code: String(ORDERS_STATUS_FOR_GRPC.DEADLINE_EXCEEDED) },
    { service: "gateway", metric: "grpcClient", code: grpc, method: "GetProduct" },
    { service: "gateway", metric: "httpClient", code: ["503", "0"], peer: "orders" },
    { service: "gateway", metric: "httpServer", code: ["502", "504"] },
  ];
}
