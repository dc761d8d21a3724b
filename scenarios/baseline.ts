import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "baseline",
  description: "No faults: every request traced end to end, runtime metrics sane, metric hygiene, probes healthy.",
  load: {
    ratePerSec: 20,
    durationMs: 4_000,
    warmupMs: 1_000,
    routes: [
      { route: "POST /api/checkout", weight: 1 },
      { route: "GET /api/products/:sku", weight: 1 },
    ],
  },
  faults: [],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
  },
});
