import { defineConfig } from "../../harness/config/mesh-config";
import type { ServiceConfig } from "../../harness/config/mesh-config";

/**
 * The sample mesh (services/) launched as a mesh meshproof did not write: started by its commands, judged with no
 * admin API (its admin listener exists but this config does not name it), every fault from outside (Toxiproxy and
 * an L7 proxy on each link, signals and cgroups on each process). Run from the repository root after `npm run build`.
 */
const ROOT = "../..";
const heapLimitBytes = 256 * 2 ** 20;
const probes = (service: string, grpc: boolean) => ({
  healthzUrl: `http://127.0.0.1:{{port:${service}${grpc ? "-ops" : ""}}}/healthz`,
  readyzUrl: `http://127.0.0.1:{{port:${service}${grpc ? "-ops" : ""}}}/readyz`,
  metricsUrl: `http://127.0.0.1:{{port:${service}${grpc ? "-ops" : ""}}}/metrics`,
});
const liveness = {
  heap: { check: "heap", limitBytes: heapLimitBytes },
  eventLoop: { check: "eventLoop", maxLagMs: 500 },
};

/** One of the kit's Node services as its owner starts it: the compiled service with the telemetry preload. */
function nodeService(name: string, grpc: boolean, env: Record<string, string> = {}): ServiceConfig["launch"] {
  return {
    command: [
      "{{node}}",
      "--max-semi-space-size=1",
      "--expose-gc",
      "--require",
      "./dist/services/lib/telemetry.js",
      `./dist/services/${name}/main.js`,
    ],
    cwd: ROOT,
    env: {
      NODE_ENV: "production",
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      MESHPROOF_SERVICE_NAME: name,
      MESHPROOF_PORT: `{{port:${name}}}`,
      ...(grpc ? { MESHPROOF_OPS_PORT: `{{port:${name}-ops}}` } : {}),
      MESHPROOF_INSTANCE_ID: `${name}-127.0.0.1:{{port:${name}${grpc ? "-ops" : ""}}}`,
      MESHPROOF_ADMIN_PORT: `{{port:${name}-admin}}`,
      MESHPROOF_ADMIN_TOKEN: "unused-by-this-config-0123456789",
      MESHPROOF_LOG_FILE: `{{run}}/logs/${name}.jsonl`,
      MESHPROOF_OTLP_URL: "{{otlp:http}}",
      MESHPROOF_SAMPLING_RATIO: "{{samplingRatio}}",
      MESHPROOF_HEAP_LIMIT_BYTES: String(heapLimitBytes),
      ...env,
    },
  };
}

const grpcTable = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 409,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 503,
  default: 500,
};

export default defineConfig({
  name: "sample mesh (launched from examples/sample-mesh)",
  services: {
    gateway: {
      role: "edge",
      protocol: "http",
      runtime: "node",
      url: "http://127.0.0.1:{{port:gateway}}",
      ...probes("gateway", false),
      contract: "node",
      operations: ["POST /api/checkout", "GET /api/orders/:id", "GET /api/products/:sku"],
      logFile: "{{run}}/logs/gateway.jsonl",
      launch: nodeService("gateway", false, {
        MESHPROOF_ORDERS_URL: "http://{{link:gateway-orders}}",
        MESHPROOF_INVENTORY_ADDR: "{{link:gateway-inventory}}",
      }),
      errors: { grpc: { NOT_FOUND: 404, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, default: 502 }, http5xx: 502 },
      probes: {
        readiness: [
          { check: "orders", on: "orders", liveness: true },
          { check: "inventory", on: "inventory" },
        ],
        liveness,
        drain: { check: "draining" },
      },
    },
    orders: {
      protocol: "http",
      runtime: "node",
      ...probes("orders", false),
      contract: "node",
      operations: ["POST /orders", "GET /orders/:id"],
      logFile: "{{run}}/logs/orders.jsonl",
      launch: nodeService("orders", false, {
        MESHPROOF_REDIS_URL: "redis://{{link:orders-redis}}",
        MESHPROOF_INVENTORY_ADDR: "{{link:orders-inventory}}",
        MESHPROOF_PAYMENTS_ADDR: "{{link:orders-payments}}",
      }),
      errors: { grpc: grpcTable, datastore: 503 },
      probes: {
        readiness: [
          { check: "redis", on: "orders-redis" },
          { check: "inventory", on: "inventory" },
          { check: "payments", on: "payments" },
        ],
        liveness,
        drain: { check: "draining" },
      },
    },
    inventory: {
      protocol: "grpc",
      runtime: "node",
      ...probes("inventory", true),
      contract: "node",
      operations: ["meshproof.inventory.v1.Inventory/GetProduct", "meshproof.inventory.v1.Inventory/Reserve"],
      logFile: "{{run}}/logs/inventory.jsonl",
      launch: nodeService("inventory", true),
      probes: { liveness, drain: { check: "draining" } },
    },
    payments: {
      protocol: "grpc",
      runtime: "node",
      ...probes("payments", true),
      contract: "node",
      operations: ["meshproof.payments.v1.Payments/Charge"],
      logFile: "{{run}}/logs/payments.jsonl",
      launch: nodeService("payments", true),
      probes: { liveness, drain: { check: "draining" } },
    },
    redis: {
      role: "datastore",
      protocol: "redis",
      launch: { command: ["{{tool:redis}}", "--port", "{{port:redis}}", "--bind", "127.0.0.1", "--save", ""] },
    },
  },
  links: {
    "gateway-orders": { from: "gateway", to: "orders", protocol: "http", address: "127.0.0.1:{{port:orders}}" },
    "gateway-inventory": {
      from: "gateway",
      to: "inventory",
      protocol: "grpc",
      address: "127.0.0.1:{{port:inventory}}",
      timeoutMs: 2_000,
    },
    "orders-inventory": {
      from: "orders",
      to: "inventory",
      protocol: "grpc",
      address: "127.0.0.1:{{port:inventory}}",
      timeoutMs: 2_000,
    },
    "orders-payments": {
      from: "orders",
      to: "payments",
      protocol: "grpc",
      address: "127.0.0.1:{{port:payments}}",
      timeoutMs: 2_000,
    },
    "orders-redis": { from: "orders", to: "redis", protocol: "redis", address: "127.0.0.1:{{port:redis}}" },
  },
  routes: {
    "POST /api/checkout": {
      request: {
        method: "POST",
        path: "/api/checkout",
        body: { items: [{ sku: "sku-1", qty: 1 }], card: "4242424242424242" },
      },
      hops: [
        { from: "gateway", to: "orders", protocol: "http", method: "POST /orders" },
        { from: "orders", to: "inventory", protocol: "grpc", method: "Reserve" },
        { from: "orders", to: "payments", protocol: "grpc", method: "Charge" },
        { from: "orders", to: "redis", protocol: "redis" },
      ],
      weight: 3,
    },
    "GET /api/products/:sku": {
      request: { method: "GET", path: "/api/products/sku-2" },
      hops: [{ from: "gateway", to: "inventory", protocol: "grpc", method: "GetProduct" }],
      weight: 1,
    },
  },
  exportIntervalMs: 1_000,
});
