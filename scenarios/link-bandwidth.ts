import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "link-bandwidth",
  description:
    "The gateway -> orders link limited to 2 KB/s each way for 3 s: checkouts slow down at the driver, nothing fails, every trace and counter still agrees.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    { kind: "link-bandwidth", target: "gateway-orders", atMs: 2_000, durationMs: 3_000, params: { kbPerSec: 2 } },
  ],
  expectations: { families: [...ALL_FAMILIES], topology: MESH_TOPOLOGY },
});
