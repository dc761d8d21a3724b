export { AdminClient } from "./admin-client";
export type { Fault, FaultSpec } from "./admin-client";
export { MESH_SERVICES, startMesh } from "./mesh";
export type { MeshOptions, MeshServiceName, StartedMesh, StartedService, TelemetryMode } from "./mesh";
