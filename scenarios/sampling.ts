import { defineTemplate, evenRoutes, HALF_CAPACITY, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "sampling",
  summary: "root sampling ratio 0.25 with sampled, unsampled and absent parents",
  bind: (mesh) => ({
    name: "sampling",
    description:
      "Root ratio 0.25 (ParentBased): a quarter of requests carry a sampled parent, a quarter an unsampled one, half none. Every trace is whole or absent everywhere, unsampled parents leave no span, the sampled share of roots is within its binomial bound, and the metrics still count every request.",
    mesh: { samplingRatio: 0.25 },
    load: {
      ratePerSec: 20,
      durationMs: 6_000,
      warmupMs: 1_000,
      traceparent: { sampled: 1, unsampled: 1, none: 2 },
      routes: evenRoutes(mesh),
      maxShareOfCapacity: HALF_CAPACITY,
    },
    faults: [],
    expectations: meshExpectations(mesh),
  }),
});
