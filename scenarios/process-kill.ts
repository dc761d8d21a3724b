import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "process-kill",
  description:
    "payments is killed (SIGKILL) and started again 2.5 s later: Charge fails UNAVAILABLE (503, gateway 502), payments' probes are refused and orders turns unready naming payments; its counters restart from zero and reconcile across both lives; process_start_time_seconds changes.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "kill", target: "payments", atMs: 2_000, durationMs: 2_500, params: {} }],
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
            grpcCode: "UNAVAILABLE",
            answered: false,
          }),
        },
      ],
    },
    probes: {
      readinessFlips: [
        { fault: "payments", service: "orders", check: "payments" },
        { fault: "payments", service: "payments", answer: "refused" },
        { fault: "payments", service: "payments", probe: "healthz", answer: "refused" },
      ],
    },
  },
});
