export { AdminClient } from "./admin-client";
export type { AdminFault, Fault, TelemetryStats } from "./admin-client";
export { ContainerLauncher, SERVICE_LABEL } from "./container-launcher";
export type { MeshImages } from "./container-launcher";
export type { LaunchedService, ServiceLauncher, ServiceLaunch } from "./launcher";
export {
  KNOWN_DEFECTS,
  MESH_LINKS,
  MESH_SERVICES,
  NODE_FLAGS,
  otelEnvironment,
  processLauncher,
  SAMPLE_MESH,
  startMesh,
} from "./mesh";
export type {
  Impl,
  MeshLink,
  MeshOptions,
  MeshServiceName,
  NativeMesh,
  NativeService,
  SampleMesh,
  SampleService,
  TelemetryMode,
} from "./mesh";
export { serviceInfo } from "./started-mesh";
export type { MeshService, ServiceControl, StartedMesh } from "./started-mesh";
