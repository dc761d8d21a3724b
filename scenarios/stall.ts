import type { FaultSpecOf } from "../assertions/faults";
import { readinessFlipsFor } from "./lib/derive";
import { busiestLeaf, defineTemplate, faultScenarioLoad, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "stall",
  summary: "a leaf service stalled for 600 ms of every second (its event loop blocked, or its process frozen)",
  bind(mesh) {
    const service = busiestLeaf(mesh);
    if (!service) return { template: "stall", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const fault: FaultSpecOf<"stall"> = {
      kind: "stall",
      target: service,
      atMs: 2_000,
      durationMs: 3_000,
      params: { blockMs: 600, everyMs: 1_000 },
    };
    const inside = mesh.means.admin.includes(service) && mesh.services[service]?.runtime === "node";
    // A frozen process's event loop lags too: its liveness check sees the blocks whichever way they are made.
    const flips = readinessFlipsFor(mesh, fault);
    return {
      name: inside ? "event-loop-stall" : "process-stall",
      description: inside
        ? `${service}'s event loop is blocked 600 ms of every second for 3 s: its max-lag gauge shows the blocks, utilisation rises, and its liveness fails after each block; callers only slow down.`
        : `${service}'s process is frozen 600 ms of every second for 3 s (a cgroup freezer): its callers only slow down, every trace and counter still agrees.`,
      load: faultScenarioLoad(mesh),
      // Its fault takes the machine's CPU or memory, or its timing is judged: it runs with no other scenario.
      isolation: "alone",
      faults: [fault],
      expectations: meshExpectations(mesh, { readinessFlips: flips }),
    };
  },
});
