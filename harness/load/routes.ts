import type { Rng } from "../util/rng";

/** One concrete request the driver sends. */
export interface RouteRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  /** Sent besides the driver's own headers. */
  headers?: Record<string, string>;
}

/** How the driver builds a request for a route name of the scenario ("POST /api/checkout"). */
export type RouteCatalog = Record<string, (rng: Rng) => RouteRequest>;

// SKUs the inventory stocks (services/inventory/catalog.ts); a load run never hits a business error by accident.
const SKUS = ["sku-1", "sku-2", "sku-3", "sku-4", "sku-5"];

/** The sample mesh's edge routes, with a card payments accepts. */
export const MESH_ROUTES: RouteCatalog = {
  "POST /api/checkout": (rng) => ({
    method: "POST",
    path: "/api/checkout",
    body: { items: [{ sku: rng.pick(SKUS), qty: 1 + rng.int(3) }], card: "4242424242424242" },
  }),
  "GET /api/products/:sku": (rng) => ({ method: "GET", path: `/api/products/${rng.pick(SKUS)}` }),
};
