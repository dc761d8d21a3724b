import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "process-freeze",
  description:
    "payments is frozen (SIGSTOP) for 2.5 s: Charge calls hit their 2 s deadline (DEADLINE_EXCEEDED, 503, gateway 502), payments' probes time out, orders turns unready naming payments; all recover after SIGCONT.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "freeze", target: "payments", atMs: 2_000, durationMs: 2_500, params: {} }],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: {
      errorSurfaces: [
        {
          fault: "payments",
          layers: checkoutErrorLayers({
            service: "payments",
            method: "Charge",
            grpcCode: "DEADLINE_EXCEEDED",
            answered: false,
          }),
        },
      ],
    },
    probes: {
      readinessFlips: [
        { fault: "payments", service: "orders", check: "payments" },
        { fault: "payments", service: "payments", answer: "timeout" },
        { fault: "payments", service: "payments", probe: "healthz", answer: "timeout" },
      ],
    },
  },
});
