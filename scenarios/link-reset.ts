import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "link-reset",
  description:
    "Connections on the orders -> payments link reset for 3 s: Charge fails UNAVAILABLE at orders (503, gateway 502), some calls after reaching payments (the answer is reset), orders turns unready naming payments.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "link-reset", target: "orders-payments", atMs: 2_000, durationMs: 3_000, params: { timeoutMs: 0 } }],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: {
      errorSurfaces: [
        {
          fault: "orders-payments",
          layers: checkoutErrorLayers({
            service: "payments",
            method: "Charge",
            grpcCode: "UNAVAILABLE",
            answered: false,
          }),
        },
      ],
    },
    probes: { readinessFlips: [{ fault: "orders-payments", service: "orders", check: "payments" }] },
  },
});
