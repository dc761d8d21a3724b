export { AdminClient, RESOURCE_FAULT_KINDS } from "./admin-client";
export type { Fault, FaultSpec, ResourceFaultKind } from "./admin-client";
export { MESH_SERVICES, startMesh } from "./mesh";
export type { MeshOptions, MeshServiceName, StartedMesh, StartedService, TelemetryMode } from "./mesh";
