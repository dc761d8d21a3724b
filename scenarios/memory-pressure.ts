import type { FaultSpecOf } from "../assertions/faults";
import { readinessFlipsFor } from "./lib/derive";
import { busiestLeaf, defineTemplate, faultScenarioLoad, leafCalls, meshExpectations } from "./lib/template";

const MIB = 2 ** 20;

export default defineTemplate({
  template: "memory-pressure",
  summary: "memory held in the busiest leaf (a quarter of its heap limit) and its caller (past its limit)",
  bind(mesh) {
    const leaf = busiestLeaf(mesh);
    const call = leaf ? leafCalls(mesh).find((c) => c.service === leaf) : undefined;
    const caller = call ? mesh.routes[call.route]!.hops.find((h) => h.to === leaf)?.from : undefined;
    const limit = (service: string) => mesh.services[service]?.probes?.liveness?.heap?.limitBytes;
    if (!leaf || !caller || !limit(leaf) || !limit(caller))
      return {
        template: "memory-pressure",
        reason: "needs a leaf service and its caller with a heap limit in their probe model (probes.liveness.heap)",
      };
    const fault = (target: string, mb: number): FaultSpecOf<"memory"> => ({
      kind: "memory",
      target,
      atMs: 2_000,
      durationMs: 3_000,
      params: { mb },
    });
    const faults = [
      fault(leaf, Math.round(limit(leaf)! / 4 / MIB)),
      fault(caller, Math.round((limit(caller)! * 1.25) / MIB)),
    ];
    const flips = faults.flatMap((f) => readinessFlipsFor(mesh, f) ?? []);
    return {
      name: "memory-pressure",
      description: `${leaf} holds ${faults[0]!.params.mb} MB and ${caller} ${faults[1]!.params.mb} MB (over its heap limit) for 3 s: both heap gauges rise by what is held and fall after; ${caller}'s /healthz fails naming its heap check and its dependents turn unready; ${leaf} stays healthy.`,
      load: faultScenarioLoad(mesh),
      // Its fault takes the machine's CPU or memory, or its timing is judged: it runs with no other scenario.
      isolation: "alone",
      faults,
      expectations: meshExpectations(mesh, { readinessFlips: flips }),
    };
  },
});
