import { defineTemplate, edgeOf, faultScenarioLoad, serviceLinks, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "link-bandwidth",
  summary: "the edge's first link on the longest route limited to 2 KB/s",
  bind(mesh) {
    const edge = edgeOf(mesh);
    const link = serviceLinks(mesh).find((l) => mesh.links[l]!.from === edge);
    if (!link) return { template: "link-bandwidth", reason: "the mesh declares no link from its edge service" };
    const { from, to } = mesh.links[link]!;
    return {
      name: "link-bandwidth",
      description: `The ${from} -> ${to} link limited to 2 KB/s each way for 3 s: requests slow down at the driver, nothing fails, every trace and counter still agrees.`,
      load: faultScenarioLoad(mesh),
      faults: [{ kind: "link-bandwidth", target: link, atMs: 2_000, durationMs: 3_000, params: { kbPerSec: 2 } }],
      expectations: meshExpectations(mesh),
    };
  },
});
