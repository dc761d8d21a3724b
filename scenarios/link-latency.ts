import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "link-latency",
  description:
    "+200 ms on the orders -> inventory link for 3 s: orders' Reserve client spans and client histogram move, inventory's server spans do not.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "link-latency", target: "orders-inventory", atMs: 2_000, durationMs: 3_000, params: { ms: 200 } }],
  expectations: { families: [...ALL_FAMILIES], topology: MESH_TOPOLOGY },
});
