import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor } from "./lib/derive";
import { defineTemplate, faultScenarioLoad, lastLeafCall, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "leaf-errors",
  summary: "an error rate on a leaf RPC method (the last one the longest route calls)",
  bind(mesh) {
    const call = lastLeafCall(mesh);
    if (!call) return { template: "leaf-errors", reason: "the mesh has no leaf service reached over HTTP or gRPC" };
    const grpc = mesh.services[call.service]!.protocol === "grpc";
    const target = call.method ? `${call.service}.${call.method}` : call.service;
    const fault: FaultSpecOf<"error"> = {
      kind: "error",
      target,
      atMs: 2_000,
      durationMs: 4_000,
      params: grpc ? { rate: 0.2, grpcCode: "UNAVAILABLE" } : { rate: 0.2, httpStatus: 503 },
    };
    const surfaces = errorSurfacesFor(mesh, fault, call, {
      codes: grpc ? "UNAVAILABLE" : "503",
      answered: mesh.means.admin.includes(call.service),
    });
    return {
      name: `${call.service}-errors`,
      description: `20% of ${target} calls fail ${grpc ? "UNAVAILABLE" : "503"} for 4 s: counters, traces and the edge agree on every failure.`,
      load: faultScenarioLoad(mesh),
      faults: [fault],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces }),
    };
  },
});
