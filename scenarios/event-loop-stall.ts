import { defineScenario } from "./lib/scenario-model";
import { ALL_FAMILIES, FAULT_SCENARIO_LOAD, MESH_TOPOLOGY } from "./lib/mesh";

export default defineScenario({
  name: "event-loop-stall",
  description:
    "inventory's event loop is blocked 600 ms of every second for 3 s: its max-lag gauge shows the blocks, utilisation rises, and /healthz fails naming eventLoop after each block (its rule: delay p99 > 500 ms); callers only slow down.",
  load: FAULT_SCENARIO_LOAD,
  faults: [
    { kind: "stall", target: "inventory", atMs: 2_000, durationMs: 3_000, params: { blockMs: 600, everyMs: 1_000 } },
  ],
  expectations: {
    families: [...ALL_FAMILIES],
    topology: MESH_TOPOLOGY,
    probes: {
      readinessFlips: [
        {
          fault: "inventory",
          service: "inventory",
          probe: "healthz",
          check: "eventLoop",
          intermittent: { atLeast: 2 },
        },
      ],
    },
  },
});
