import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor, readinessFlipsFor } from "./lib/derive";
import { defineTemplate, faultScenarioLoad, lastLeafCall, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "process-freeze",
  summary: "freeze a leaf service (SIGSTOP) for longer than its callers' deadline",
  bind(mesh) {
    const call = lastLeafCall(mesh);
    if (!call) return { template: "process-freeze", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const service = call.service;
    const timeoutMs = call.link ? mesh.links[call.link]!.timeoutMs : undefined;
    const fault: FaultSpecOf<"freeze"> = {
      kind: "freeze",
      target: service,
      atMs: 2_000,
      durationMs: Math.max(2_500, (timeoutMs ?? 0) + 500),
      params: {},
    };
    // The callers' deadline passes while it is frozen only when they have one.
    const surfaces = timeoutMs === undefined ? undefined : errorSurfacesFor(mesh, fault, { service });
    const flips = readinessFlipsFor(mesh, fault);
    return {
      name: "process-freeze",
      description: `${service} is frozen (SIGSTOP) for ${fault.durationMs / 1000} s: calls to it outwait their deadline, its probes time out, its dependents turn unready naming it; all recover after SIGCONT.`,
      load: faultScenarioLoad(mesh),
      // Judged on timing (added latency, probe flips) that other scenarios' CPU would blur: it runs alone.
      isolation: "alone",
      faults: [fault],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces, readinessFlips: flips }),
    };
  },
});
