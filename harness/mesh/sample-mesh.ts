import { MESH_SERVICES, type MeshServiceName } from "../../scenarios/lib/sample-topology";
import { ConfigError } from "../errors";

export { MESH_LINKS, MESH_SERVICES } from "../../scenarios/lib/sample-topology";
export type { MeshLink, MeshServiceName } from "../../scenarios/lib/sample-topology";

/** Implementations a service can run as: the Node kit, or Go (services/payments-go, built by setup). */
export type Impl = "node" | "go";

/** The sample mesh as the harness knows it: protocol, role, the operations each declares, its implementations. */
export const SAMPLE_MESH: Record<
  MeshServiceName,
  { protocol: "http" | "grpc"; role: "edge" | "internal"; operations: string[]; impls: readonly Impl[] }
> = {
  gateway: {
    protocol: "http",
    role: "edge",
    operations: ["POST /api/checkout", "GET /api/orders/:id", "GET /api/products/:sku"],
    impls: ["node"],
  },
  orders: { protocol: "http", role: "internal", operations: ["POST /orders", "GET /orders/:id"], impls: ["node"] },
  inventory: {
    protocol: "grpc",
    role: "internal",
    operations: ["meshproof.inventory.v1.Inventory/GetProduct", "meshproof.inventory.v1.Inventory/Reserve"],
    impls: ["node"],
  },
  payments: {
    protocol: "grpc",
    role: "internal",
    operations: ["meshproof.payments.v1.Payments/Charge"],
    impls: ["node", "go"],
  },
};

/**
 * The defects the services accept through MESHPROOF_DEFECTS (the values of the environment contract between the
 * harness and services/lib/defects.ts; a unit test keeps the two lists equal).
 */
export const KNOWN_DEFECTS = [
  "drop-context",
  "status-label-200",
  "readyz-ignores-redis",
  "no-runtime-metrics",
  "default-registry",
  "raw-path-route",
  "histogram-ms",
  "log-outside-context",
  "exemplar-previous-request",
  "grpc-span-code-ok",
  "client-counter-ok-only",
  "liveness-checks-redis",
  "elu-frozen",
  "request-id-regenerated",
  "healthz-ignores-stall",
  "force-sampled-outgoing",
  "no-drain",
];

/**
 * Checks defect names: "name" switches a defect on in every service, "service:name" in that service only. Throws
 * ConfigError naming the first unknown one and the valid ones.
 */
export function checkDefects(defects: readonly string[]): void {
  for (const d of defects) {
    const [service, name] = d.includes(":") ? d.split(":", 2) : [undefined, d];
    if (service !== undefined && !(MESH_SERVICES as readonly string[]).includes(service))
      throw new ConfigError(`unknown service "${service}" in defect "${d}"; services: ${MESH_SERVICES.join(", ")}`);
    if (!KNOWN_DEFECTS.includes(name!))
      throw new ConfigError(`unknown defect "${name}"; valid defects: ${KNOWN_DEFECTS.join(", ")}`);
  }
}

/** The defect names switched on in one service: every unscoped one and its own "service:name" ones, unscoped. */
export function defectsOf(defects: readonly string[], name: MeshServiceName): string[] {
  return defects.filter((d) => !d.includes(":") || d.startsWith(`${name}:`)).map((d) => d.slice(d.indexOf(":") + 1));
}
