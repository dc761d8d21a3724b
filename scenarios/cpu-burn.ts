import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "cpu-burn",
  description:
    "payments burns half a core for 3 s: its process CPU counter rises by it (and /proc agrees), nothing fails, probes stay healthy.",
  load: FAULT_SCENARIO_LOAD,
  faults: [{ kind: "cpu", target: "payments", atMs: 2_000, durationMs: 3_000, params: { fraction: 0.5 } }],
  expectations: { families: [...ALL_FAMILIES], topology: MESH_TOPOLOGY },
});
