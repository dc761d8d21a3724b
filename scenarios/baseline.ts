import { defineTemplate, evenRoutes, HALF_CAPACITY, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "baseline",
  summary: "no faults: every route at an even mix",
  bind: (mesh) => ({
    name: "baseline",
    description: "No faults: every request traced end to end, runtime metrics sane, metric hygiene, probes healthy.",
    load: {
      ratePerSec: 20,
      durationMs: 4_000,
      warmupMs: 1_000,
      routes: evenRoutes(mesh),
      maxShareOfCapacity: HALF_CAPACITY,
    },
    faults: [],
    expectations: meshExpectations(mesh),
  }),
});
