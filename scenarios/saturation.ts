import { overloadSurface } from "./lib/derive";
import { defineTemplate, edgeOf, loadRoutes, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "saturation",
  summary: "twice the mesh's measured capacity for 6 s with a 2 s client timeout, then 30%",
  bind(mesh) {
    const edge = edgeOf(mesh);
    const surface = overloadSurface(mesh, edge);
    return {
      name: "saturation",
      description:
        "The driver sends twice the mesh's measured capacity for 6 s with a 2 s client timeout, then backs off to 30%: requests queue, and fail when they outwait the timeout; every outcome the driver saw (5xx, 504, no answer) is in the edge's counters and spans and reconciled hop by hop; the mesh recovers.",
      // Twice the machine's capacity: it runs with no other scenario.
      isolation: "alone",
      load: {
        rateUnit: "capacity",
        ratePerSec: 0.5,
        warmupMs: 2_000,
        durationMs: 13_000,
        timeoutMs: 2_000,
        stages: [
          { durationMs: 2_000, targetRatePerSec: 2 },
          { durationMs: 6_000, targetRatePerSec: 2 },
          { durationMs: 1_000, targetRatePerSec: 0.3 },
          { durationMs: 6_000, targetRatePerSec: 0.3 },
        ],
        routes: loadRoutes(mesh),
      },
      faults: [{ kind: "overload", target: edge, atMs: 2_000, durationMs: 7_000, params: {} }],
      expectations: {
        ...meshExpectations(mesh, { errorSurfaces: surface && [surface] }),
        probes: { tolerate: [edge] },
      },
    };
  },
});
