import { ALL_FAMILIES } from "../assertions/evidence";
import { defineTemplate, faultScenarioLoad, hopsByRoute, lastLeafCall } from "./lib/template";

export default defineTemplate({
  template: "cpu",
  summary: "half a core burnt in a leaf service",
  bind(mesh) {
    const service = lastLeafCall(mesh)?.service;
    if (!service) return { template: "cpu", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    return {
      name: "cpu-burn",
      description: `${service} burns half a core for 3 s: its process CPU counter rises by it (and /proc agrees), nothing fails, probes stay healthy.`,
      load: faultScenarioLoad(mesh),
      faults: [{ kind: "cpu", target: service, atMs: 2_000, durationMs: 3_000, params: { fraction: 0.5 } }],
      expectations: { families: [...ALL_FAMILIES], topology: hopsByRoute(mesh) },
    };
  },
});
