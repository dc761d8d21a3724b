import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY, PRODUCT, productErrorLayers } from "./lib/mesh";

export default defineScenario({
  name: "link-timeout",
  description:
    "No data on the gateway -> inventory link for 3 s: product lookups hit their 2 s deadline (DEADLINE_EXCEEDED, gateway 504) or fail on the broken connection after it (UNAVAILABLE, 502), gateway turns unready naming inventory, all recover.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    { kind: "link-timeout", target: "gateway-inventory", atMs: 2_000, durationMs: 3_000, params: { timeoutMs: 0 } },
  ],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: {
      errorSurfaces: [
        {
          fault: "gateway-inventory",
          route: PRODUCT,
          layers: productErrorLayers(["DEADLINE_EXCEEDED", "UNAVAILABLE"], false),
        },
      ],
    },
    probes: { readinessFlips: [{ fault: "gateway-inventory", service: "gateway", check: "inventory" }] },
  },
});
