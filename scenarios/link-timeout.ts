import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor, readinessFlipsFor } from "./lib/derive";
import { defineTemplate, edgeOf, faultScenarioLoad, leafCalls, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "link-timeout",
  summary: "no data for 3 s on a link from the edge to a leaf service (gRPC first)",
  bind(mesh) {
    const edge = edgeOf(mesh);
    const fromEdge = (c: { link?: string }) => c.link !== undefined && mesh.links[c.link]!.from === edge;
    const call = leafCalls(mesh, "grpc").find(fromEdge) ?? leafCalls(mesh).find(fromEdge);
    if (!call?.link)
      return { template: "link-timeout", reason: "the mesh declares no link from its edge to a leaf service" };
    const link = call.link;
    const { from, to } = mesh.links[link]!;
    const fault: FaultSpecOf<"link-timeout"> = {
      kind: "link-timeout",
      target: link,
      atMs: 2_000,
      durationMs: 3_000,
      params: { timeoutMs: 0 },
    };
    const surfaces = errorSurfacesFor(mesh, fault, { link });
    const flips = readinessFlipsFor(mesh, fault);
    return {
      name: "link-timeout",
      description: `No data on the ${from} -> ${to} link for 3 s: calls hit their deadline or fail on the broken connection after it, ${from} turns unready naming ${to}, all recover.`,
      load: faultScenarioLoad(mesh),
      faults: [fault],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces, readinessFlips: flips }),
    };
  },
});
