import type { FaultSpec } from "../assertions/faults";
import { defineTemplate, faultScenarioLoad, lastLeafCall, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "cpu",
  summary: "CPU on a leaf service: half a core burnt inside it (admin API), else capped at a tenth of a core (cgroup)",
  bind(mesh) {
    const service = lastLeafCall(mesh)?.service;
    if (!service) return { template: "cpu", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const timing = { target: service, atMs: 2_000, durationMs: 3_000 };
    const burn = mesh.means.admin.includes(service) || !mesh.means.cgroup.includes(service);
    const fault: FaultSpec = burn
      ? { kind: "cpu", ...timing, params: { fraction: 0.5 } }
      : { kind: "cpu-throttle", ...timing, params: { fraction: 0.1 } };
    return {
      name: burn ? "cpu-burn" : "cpu-throttle",
      description: burn
        ? `${service} burns half a core for 3 s: its process CPU counter rises by it (and /proc agrees), nothing fails, probes stay healthy.`
        : `${service} is capped at a tenth of a core for 3 s: its process CPU counter stays under the cap (and /proc agrees), it answers late, nothing fails.`,
      load: faultScenarioLoad(mesh),
      // Its fault takes the machine's CPU or memory, or its timing is judged: it runs with no other scenario.
      isolation: "alone",
      faults: [fault],
      // A process capped at a tenth of a core runs 10 ms of every 100 ms: 50 ms of work takes half a second, so its
      // event-loop check (and its callers' checks of it) may fail while the cap holds. Burnt on a worker thread, its
      // probes must stay healthy.
      expectations: burn ? meshExpectations(mesh) : { ...meshExpectations(mesh), probes: { tolerate: [service] } },
    };
  },
});
