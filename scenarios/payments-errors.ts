import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "payments-errors",
  description:
    "20% of payments.Charge calls fail UNAVAILABLE for 4 s: counters, traces and the edge agree on every failure.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    {
      kind: "error",
      target: "payments.Charge",
      atMs: 2_000,
      durationMs: 4_000,
      params: { rate: 0.2, grpcCode: "UNAVAILABLE" },
    },
  ],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: {
      errorSurfaces: [
        {
          fault: "payments.Charge",
          layers: checkoutErrorLayers({ service: "payments", method: "Charge", grpcCode: "UNAVAILABLE" }),
        },
      ],
    },
  },
});
