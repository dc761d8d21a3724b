import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "sampling",
  description:
    "Root ratio 0.25 (ParentBased): a quarter of requests carry a sampled parent, a quarter an unsampled one, half none. Every trace is whole or absent everywhere, unsampled parents leave no span, the sampled share of roots is within its binomial bound, and the metrics still count every request.",
  mesh: { samplingRatio: 0.25 },
  load: {
    ratePerSec: 20,
    durationMs: 6_000,
    warmupMs: 1_000,
    traceparent: { sampled: 1, unsampled: 1, none: 2 },
    routes: [
      { route: "POST /api/checkout", weight: 1 },
      { route: "GET /api/products/:sku", weight: 1 },
    ],
  },
  faults: [],
  expectations: { families: [...ALL_FAMILIES], topology: MESH_TOPOLOGY },
});
