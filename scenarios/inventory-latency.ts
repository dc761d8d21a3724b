import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "inventory-latency",
  description:
    "+300 ms on inventory.Reserve for 3 s: the Reserve duration histogram moves above 300 ms in that window only.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "latency", target: "inventory.Reserve", atMs: 2_000, durationMs: 3_000, params: { ms: 300 } }],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
  },
});
