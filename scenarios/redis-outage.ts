import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, checkoutErrorLayers, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "redis-outage",
  description:
    "The orders -> Redis link is down for 3 s: orders turns unready naming redis, checkouts fail 503, all recover.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "link-down", target: "orders-redis", atMs: 2_000, durationMs: 3_000, params: {} }],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    metrics: { errorSurfaces: [{ fault: "orders-redis", layers: checkoutErrorLayers("redis") }] },
    probes: { readinessFlips: [{ fault: "orders-redis", service: "orders", check: "redis" }] },
  },
});
