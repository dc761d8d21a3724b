import type { Rng } from "../util/rng";

/** One concrete request the driver sends. */
export interface RouteRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
}

/** How the driver builds a request for a route name of the scenario ("POST /api/checkout"). */
export type RouteCatalog = Record<string, (rng: Rng) => RouteRequest>;

const SKUS = ["sku-apple", "sku-banana", "sku-cherry", "sku-date"];

/** The sample mesh's edge routes. Cards ending in 0002 are declined by payments (a business error). */
export const MESH_ROUTES: RouteCatalog = {
  "POST /api/checkout": (rng) => ({
    method: "POST",
    path: "/api/checkout",
    body: { items: [{ sku: rng.pick(SKUS), qty: 1 + rng.int(3) }], card: "4242424242424242" },
  }),
  "GET /api/products/:sku": (rng) => ({ method: "GET", path: `/api/products/${rng.pick(SKUS)}` }),
};
