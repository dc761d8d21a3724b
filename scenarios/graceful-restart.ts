import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor, readinessFlipsFor } from "./lib/derive";
import { busiestLeaf, defineTemplate, faultScenarioLoad, leafCalls, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "graceful-restart",
  summary: "restart the leaf service on the most routes gracefully (SIGTERM) while its calls are slowed",
  bind(mesh) {
    const service = busiestLeaf(mesh);
    if (!service)
      return { template: "graceful-restart", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const slowed = leafCalls(mesh).find((c) => c.service === service)!;
    const target = slowed.method ? `${service}.${slowed.method}` : service;
    const restart: FaultSpecOf<"restart"> = {
      kind: "restart",
      target: service,
      atMs: 2_600,
      durationMs: 2_000,
      params: {},
    };
    const surfaces = errorSurfacesFor(mesh, restart, { service });
    const flips = readinessFlipsFor(mesh, restart);
    return {
      name: "graceful-restart",
      description: `${service} is restarted gracefully (SIGTERM) while ${target} is slowed by 500 ms: its /readyz answers 503 (draining) before the listener closes, every call in flight completes, callers turn unready naming it, calls refused while it is down fail and are explained; all recover.`,
      load: faultScenarioLoad(mesh),
      // Judged on timing (added latency, probe flips) that other scenarios' CPU would blur: it runs alone.
      isolation: "alone",
      faults: [
        // Slow calls, so that calls are in flight when SIGTERM comes; reverted inside the drain, before the listener closes.
        { kind: "latency", target, atMs: 2_000, durationMs: 900, params: { ms: 500 } },
        restart,
      ],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces, readinessFlips: flips }),
    };
  },
});
