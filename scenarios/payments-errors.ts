import { defineScenario } from "./lib/scenario-model";
import { checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

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
    families: ["traces", "metrics", "probes", "runtime", "hygiene"],
    topology: MESH_TOPOLOGY,
    traces: {
      errorPath: [
        { service: "payments", kind: "server" },
        { service: "orders", kind: "client", peer: "payments" },
        { service: "orders", kind: "server" },
        { service: "gateway", kind: "client", peer: "orders" },
        { service: "gateway", kind: "server" },
      ],
    },
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
