import { defineScenario } from "./lib/scenario-model";
import {
  ALL_FAMILIES,
  CHECKOUT,
  checkoutErrorLayers,
  FAULT_SCENARIO_LOAD,
  MESH_TOPOLOGY,
  PRODUCT,
  productErrorLayers,
} from "./lib/mesh";

export default defineScenario({
  name: "graceful-restart",
  description:
    "inventory is restarted gracefully (SIGTERM) while Reserve is slowed by 500 ms: its /readyz answers 503 (draining) before the listener closes, every call in flight completes, callers turn unready naming inventory, calls refused while it is down fail UNAVAILABLE (503/502) and are explained; all recover.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    // Slow calls, so that calls are in flight when SIGTERM comes; reverted inside the drain, before the listener closes.
    { kind: "latency", target: "inventory.Reserve", atMs: 2_000, durationMs: 900, params: { ms: 500 } },
    { kind: "restart", target: "inventory", atMs: 2_600, durationMs: 2_000, params: {} },
  ],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: {
      errorSurfaces: [
        {
          fault: "inventory",
          route: CHECKOUT,
          layers: checkoutErrorLayers({
            service: "inventory",
            method: "Reserve",
            grpcCode: "UNAVAILABLE",
            answered: false,
          }),
        },
        { fault: "inventory", route: PRODUCT, layers: productErrorLayers("UNAVAILABLE", false) },
      ],
    },
    probes: {
      readinessFlips: [
        { fault: "inventory", service: "inventory", check: "draining" },
        { fault: "inventory", service: "inventory", probe: "healthz", answer: "refused" },
        { fault: "inventory", service: "orders", check: "inventory" },
        { fault: "inventory", service: "gateway", check: "inventory" },
      ],
    },
  },
});
