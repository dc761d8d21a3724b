import { defineTemplate, loadRoutes, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "load",
  summary: "70% of the mesh's measured capacity for 25 s",
  bind: (mesh) => ({
    name: "load",
    description:
      "The driver ramps to 70% of the mesh's measured capacity and holds it for 25 s (thousands of requests): every trace complete, every counter equal to the driver per route and code, every span the SDKs ended stored, runtime gauges sane under pressure.",
    // 70% of the machine's capacity: it runs with no other scenario.
    isolation: "alone",
    load: {
      rateUnit: "capacity",
      ratePerSec: 0.1,
      warmupMs: 5_000,
      durationMs: 25_000,
      stages: [
        { durationMs: 5_000, targetRatePerSec: 0.7 },
        { durationMs: 25_000, targetRatePerSec: 0.7 },
      ],
      routes: loadRoutes(mesh),
      minRequests: 5_500,
    },
    faults: [],
    expectations: meshExpectations(mesh),
  }),
});
