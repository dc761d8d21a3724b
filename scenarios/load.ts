import { defineTemplate, loadRoutes, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "load",
  summary: "70% of the mesh's measured capacity for 25 s",
  bind: (mesh) => ({
    name: "load",
    description:
      "k6 ramps to 70% of the mesh's measured capacity and holds it for 25 s (thousands of requests): every trace complete, every counter equal to the driver per route and code, every span the SDKs ended stored, runtime gauges sane under pressure.",
    load: {
      driver: "k6",
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
      thresholds: { http_req_failed: ["rate<0.001"], http_req_duration: ["p(99)<1000"] },
    },
    faults: [],
    expectations: meshExpectations(mesh),
  }),
});
