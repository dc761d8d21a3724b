import { defineTemplate, faultScenarioLoad, leafCalls, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "leaf-latency",
  summary: "added latency on a leaf method (the first one the longest route calls)",
  bind(mesh) {
    const call = leafCalls(mesh)[0];
    if (!call) return { template: "leaf-latency", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const target = call.method ? `${call.service}.${call.method}` : call.service;
    return {
      name: `${call.service}-latency`,
      description: `+300 ms on ${target} for 3 s: the ${call.method ?? call.service} duration histogram moves above 300 ms in that window only.`,
      load: faultScenarioLoad(mesh),
      // Judged on timing (added latency, probe flips) that other scenarios' CPU would blur: it runs alone.
      isolation: "alone",
      faults: [{ kind: "latency", target, atMs: 2_000, durationMs: 3_000, params: { ms: 300 } }],
      expectations: meshExpectations(mesh),
    };
  },
});
