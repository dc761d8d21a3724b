import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "memory-pressure",
  description:
    "inventory holds 64 MB and orders 320 MB (over its 256 MiB heap limit) for 3 s: both heap gauges rise by what is held and fall after; orders' /healthz fails naming heap, so gateway (which checks orders' liveness) turns unready; inventory stays healthy.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    { kind: "memory", target: "inventory", atMs: 2_000, durationMs: 3_000, params: { mb: 64 } },
    { kind: "memory", target: "orders", atMs: 2_000, durationMs: 3_000, params: { mb: 320 } },
  ],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    probes: {
      readinessFlips: [
        { fault: "orders", service: "orders", probe: "healthz", check: "heap" },
        { fault: "orders", service: "gateway", check: "orders" },
      ],
    },
  },
});
