import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * The mesh's one error-mapping table, as data. Responses, metrics and spans all derive from it:
 *
 * | where               | outcome                                   | orders HTTP | gateway HTTP |
 * | ------------------- | ----------------------------------------- | ----------- | ------------ |
 * | all hops            | success                                   | 201         | 201          |
 * | request body        | malformed                                 | 400         | 400          |
 * | inventory / payments| INVALID_ARGUMENT                          | 400         | 400          |
 * | inventory           | NOT_FOUND (unknown sku)                   | 404         | 404          |
 * | inventory           | FAILED_PRECONDITION (out of stock)        | 409         | 409          |
 * | payments            | FAILED_PRECONDITION (card declined)       | 402         | 402          |
 * | inventory / payments| UNAVAILABLE, DEADLINE_EXCEEDED            | 503         | 502          |
 * | inventory / payments| any other code (INTERNAL, UNKNOWN, ...)   | 500         | 502          |
 * | Redis               | any error (down, timeout)                 | 503         | 502          |
 * | orders              | no response (refused, reset)              | -           | 502          |
 * | orders              | no response within the client timeout     | -           | 504          |
 *
 * gateway `GET /api/products/:sku` calls inventory directly: OK 200, NOT_FOUND 404, INVALID_ARGUMENT 400,
 * DEADLINE_EXCEEDED 504, anything else 502.
 */
export type GrpcCodeName = Exclude<keyof typeof GrpcStatus, number>;

/** gRPC code number -> name ("UNAVAILABLE"); the metric label value. */
export const GRPC_CODE_NAMES = Object.fromEntries(
  Object.entries(GrpcStatus)
    .filter(([, code]) => typeof code === "number")
    .map(([name, code]) => [code, name]),
) as Record<number, GrpcCodeName>;

export function grpcCodeName(code: number): GrpcCodeName {
  return GRPC_CODE_NAMES[code] ?? "UNKNOWN";
}

/** gRPC code returned by a peer of orders -> HTTP status orders answers. */
export const ORDERS_STATUS_FOR_GRPC: Record<"inventory" | "payments", Partial<Record<GrpcCodeName, number>>> = {
  inventory: {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    FAILED_PRECONDITION: 409,
    UNAVAILABLE: 503,
    DEADLINE_EXCEEDED: 503,
  },
  payments: { INVALID_ARGUMENT: 400, FAILED_PRECONDITION: 402, UNAVAILABLE: 503, DEADLINE_EXCEEDED: 503 },
};
/** Any gRPC error code not in ORDERS_STATUS_FOR_GRPC. */
export const ORDERS_STATUS_OTHER_GRPC = 500;
/** Redis failed (down, timeout). */
export const ORDERS_STATUS_REDIS_ERROR = 503;

/** orders statuses the gateway passes through unchanged; every other status >= 500 becomes 502. */
export const GATEWAY_PASSTHROUGH = [200, 201, 400, 402, 404, 409] as const;
export const GATEWAY_STATUS_NO_RESPONSE = 502;
export const GATEWAY_STATUS_TIMEOUT = 504;

/** inventory code on gateway's GET /api/products/:sku -> gateway status. */
export const GATEWAY_STATUS_FOR_INVENTORY: Partial<Record<GrpcCodeName, number>> = {
  OK: 200,
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  DEADLINE_EXCEEDED: 504,
};
export const GATEWAY_STATUS_OTHER_INVENTORY = 502;

export function ordersStatusForGrpc(peer: "inventory" | "payments", code: number): number {
  return ORDERS_STATUS_FOR_GRPC[peer][grpcCodeName(code)] ?? ORDERS_STATUS_OTHER_GRPC;
}

/** Gateway status for an orders response status, or for no response (`undefined`, timedOut telling which kind). */
export function gatewayStatusForOrders(ordersStatus: number | undefined, timedOut = false): number {
  if (ordersStatus === undefined) return timedOut ? GATEWAY_STATUS_TIMEOUT : GATEWAY_STATUS_NO_RESPONSE;
  if ((GATEWAY_PASSTHROUGH as readonly number[]).includes(ordersStatus)) return ordersStatus;
  return ordersStatus >= 500 ? GATEWAY_STATUS_NO_RESPONSE : ordersStatus;
}

export function gatewayStatusForInventory(code: number): number {
  return GATEWAY_STATUS_FOR_INVENTORY[grpcCodeName(code)] ?? GATEWAY_STATUS_OTHER_INVENTORY;
}

/** Statuses each HTTP route can answer by the table, used to pre-initialise error series at 0. */
export const ROUTE_STATUSES = {
  gatewayCheckout: [201, 400, 402, 404, 409, 500, 502, 504],
  gatewayProduct: [200, 400, 404, 500, 502, 504],
  gatewayOrder: [200, 400, 404, 500, 502, 504],
  ordersCreate: [201, 400, 402, 404, 409, 500, 503],
  ordersGet: [200, 404, 500, 503],
} as const;

/** gRPC codes each method can answer by the table (plus what a fault may inject), pre-initialised at 0. */
export const METHOD_CODES: readonly GrpcCodeName[] = [
  "OK",
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "FAILED_PRECONDITION",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "INTERNAL",
];

/** An error that carries the HTTP status to answer; the error middleware maps it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
