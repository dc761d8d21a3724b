export { AdminClient, RESOURCE_FAULT_KINDS } from "./admin-client";
export type { Fault, FaultSpec, ResourceFaultKind, TelemetryStats } from "./admin-client";
export { KNOWN_DEFECTS, MESH_LINKS, MESH_SERVICES, otelEnvironment, SAMPLE_MESH, startMesh } from "./mesh";
export type { Impl, MeshLink, MeshOptions, MeshServiceName, NativeMesh, NativeService, TelemetryMode } from "./mesh";
export { serviceInfo } from "./started-mesh";
export type { MeshService, StartedMesh } from "./started-mesh";
