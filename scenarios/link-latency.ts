import { defineTemplate, edgeOf, faultScenarioLoad, serviceLinks, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "link-latency",
  summary: "added latency on an internal link (the first one between services behind the edge)",
  bind(mesh) {
    const edge = edgeOf(mesh);
    const links = serviceLinks(mesh);
    const link = links.find((l) => mesh.links[l]!.from !== edge) ?? links[0];
    if (!link) return { template: "link-latency", reason: "the mesh declares no link between two services" };
    const { from, to } = mesh.links[link]!;
    return {
      name: "link-latency",
      description: `+200 ms on the ${from} -> ${to} link for 3 s: ${from}'s client spans and client histogram move, ${to}'s server spans do not.`,
      load: faultScenarioLoad(mesh),
      // Judged on timing (added latency, probe flips) that other scenarios' CPU would blur: it runs alone.
      isolation: "alone",
      faults: [{ kind: "link-latency", target: link, atMs: 2_000, durationMs: 3_000, params: { ms: 200 } }],
      expectations: meshExpectations(mesh),
    };
  },
});
