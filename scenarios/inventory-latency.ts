import { defineScenario } from "./lib/scenario-model";
import { MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "inventory-latency",
  description:
    "+300 ms on inventory.Reserve for 3 s: the Reserve duration histogram moves above 300 ms in that window only.",
  load: {
    ratePerSec: 20,
    durationMs: 6_500,
    warmupMs: 1_500,
    routes: [
      { route: "POST /api/checkout", weight: 3 },
      { route: "GET /api/products/:sku", weight: 1 },
    ],
  },
  faults: [{ kind: "latency", target: "inventory.Reserve", atMs: 2_000, durationMs: 3_000, params: { ms: 300 } }],
  expectations: {
    families: ["traces", "metrics", "probes", "runtime", "hygiene"],
    topology: MESH_TOPOLOGY,
  },
});
