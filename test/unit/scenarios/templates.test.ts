import fs from "node:fs";
import path from "node:path";
import { loadBoundCatalog } from "../../../scenarios/lib/loader";
import { sampleTopology } from "../../../scenarios/lib/sample-topology";
import type { Scenario } from "../../../scenarios/lib/scenario-model";
import type { MeshTopology } from "../../../scenarios/lib/topology";

/** The catalog as its hand-written scenario files declared it before the templates (commit 9f2b3f2). */
const BEFORE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../../test/fixtures/catalog/sample-catalog-9f2b3f2.json"), "utf8"),
) as Scenario[];

/**
 * A scenario in a form that ignores what does not change a verdict: descriptions, isolation (how it is scheduled),
 * key order, a code given as one string or a list of one, the order of codes and of readiness flips, a route named on an error surface whose
 * fault only that route crosses, a capacity bound the sample mesh is far from, and the load driver.
 */
function normal(scenario: Scenario): unknown {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (!x || typeof x !== "object") return x;
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort())
      if (k !== "description" && k !== "file" && k !== "isolation") o[k] = walk((x as Record<string, unknown>)[k]);
    if (o.code !== undefined) o.code = [o.code].flat().sort();
    return o;
  };
  const copy = walk(structuredClone(scenario)) as Scenario;
  const flips = copy.expectations.probes?.readinessFlips;
  if (flips) copy.expectations.probes!.readinessFlips = flips.map((f) => JSON.stringify(f)).sort() as never;
  // A bound on the share of capacity leaves the plan as written on a mesh that sustains twice its rate (this one).
  delete copy.load.maxShareOfCapacity;
  // The driver is the run's choice since k6 left the default path (inline unless --driver k6); k6 thresholds went
  // with it (the judge's own reconciliations hold at volume).
  delete copy.load.driver;
  delete copy.load.thresholds;
  const surfaces = copy.expectations.metrics?.errorSurfaces ?? [];
  if (surfaces.length === 1) delete surfaces[0]!.route;
  return copy;
}

describe("the catalog as templates over roles", () => {
  test("bound to the sample mesh, the templates give the catalog the scenario files gave", () => {
    const { scenarios, unbound } = loadBoundCatalog(undefined, sampleTopology());
    expect(unbound).toEqual([]);
    expect(scenarios.map((s) => s.name)).toEqual(BEFORE.map((s) => s.name));
    for (const scenario of scenarios) {
      const before = BEFORE.find((s) => s.name === scenario.name)!;
      expect([scenario.name, normal(scenario)]).toEqual([scenario.name, normal(before)]);
    }
  });

  test("bound to another mesh, no scenario names the sample mesh and each template binds or says why", () => {
    const shop: MeshTopology = {
      name: "shop",
      services: {
        web: { role: "edge", protocol: "http" },
        cart: { role: "internal", protocol: "http" },
        pricing: { role: "internal", protocol: "grpc" },
        db: { role: "datastore", protocol: "sql" },
      },
      links: {
        "web-cart": { from: "web", to: "cart", protocol: "http" },
        "cart-pricing": { from: "cart", to: "pricing", protocol: "grpc", timeoutMs: 1_000 },
        "cart-db": { from: "cart", to: "db", protocol: "sql" },
      },
      routes: {
        "POST /buy": {
          hops: [
            { from: "web", to: "cart", protocol: "http", method: "POST /cart" },
            { from: "cart", to: "pricing", protocol: "grpc", method: "Quote" },
            { from: "cart", to: "db", protocol: "sql" },
          ],
        },
      },
      means: {
        admin: [],
        signal: ["web", "cart", "pricing"],
        restart: ["web", "cart", "pricing"],
        cgroup: ["web", "cart", "pricing"],
        links: ["web-cart", "cart-pricing", "cart-db"],
        l7: ["web-cart", "cart-pricing"],
      },
    };
    const { scenarios, unbound } = loadBoundCatalog(undefined, shop);
    const sample = ["gateway", "orders", "inventory", "payments", "redis", "checkout", "products"];
    for (const s of scenarios)
      for (const word of sample) expect([s.name, JSON.stringify(s).includes(word)]).toEqual([s.name, false]);
    expect(scenarios.map((s) => s.name)).toEqual(
      expect.arrayContaining(["db-outage", "pricing-errors", "pricing-latency", "process-kill", "link-reset"]),
    );
    expect(scenarios.find((s) => s.name === "db-outage")!.faults).toEqual([
      expect.objectContaining({ kind: "link-down", target: "cart-db" }),
    ]);
    // No error table and no probe model declared: nothing is expected of either.
    for (const s of scenarios)
      expect([s.name, s.expectations.metrics, s.expectations.probes?.readinessFlips]).toEqual([
        s.name,
        undefined,
        undefined,
      ]);
    for (const u of unbound) expect(u.reason.length).toBeGreaterThan(10);
  });
});
