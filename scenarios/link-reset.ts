import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor, readinessFlipsFor } from "./lib/derive";
import { defineTemplate, faultScenarioLoad, lastLeafCall, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "link-reset",
  summary: "connections reset on the link into a leaf RPC service",
  bind(mesh) {
    const call = lastLeafCall(mesh);
    if (!call?.link) return { template: "link-reset", reason: "the mesh declares no link into a leaf service" };
    const link = call.link;
    const { from, to } = mesh.links[link]!;
    const fault: FaultSpecOf<"link-reset"> = {
      kind: "link-reset",
      target: link,
      atMs: 2_000,
      durationMs: 3_000,
      params: { timeoutMs: 0 },
    };
    const surfaces = errorSurfacesFor(mesh, fault, { link });
    const flips = readinessFlipsFor(mesh, fault);
    return {
      name: "link-reset",
      description: `Connections on the ${from} -> ${to} link reset for 3 s: calls fail at ${from}, some after reaching ${to} (the answer is reset), ${from} turns unready naming ${to}.`,
      load: faultScenarioLoad(mesh),
      faults: [fault],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces, readinessFlips: flips }),
    };
  },
});
