/** The instrumentation kit every mesh service uses. The tracing preload (telemetry.ts) is loaded with --require. */
export { ADMIN_HOST, startAdminServer } from "./admin";
export type { AdminServer, AdminServerOptions } from "./admin";
export { EnvReader, loadConfigOrExit, readCommonConfig, SERVICE_ENV, ServiceConfigError } from "./config";
export type { CommonConfig, ServiceEnvName } from "./config";
export { DEFECT_NAMES, DEFECTS } from "./defects";
export type { DefectName } from "./defects";
export {
  GATEWAY_PASSTHROUGH,
  GATEWAY_STATUS_FOR_INVENTORY,
  GATEWAY_STATUS_NO_RESPONSE,
  GATEWAY_STATUS_OTHER_INVENTORY,
  GATEWAY_STATUS_TIMEOUT,
  gatewayStatusForInventory,
  gatewayStatusForOrders,
  GRPC_CODE_NAMES,
  grpcCodeName,
  HttpError,
  METHOD_CODES,
  ORDERS_STATUS_FOR_GRPC,
  ORDERS_STATUS_OTHER_GRPC,
  ORDERS_STATUS_REDIS_ERROR,
  ordersStatusForGrpc,
  ROUTE_STATUSES,
} from "./error-map";
export type { GrpcCodeName } from "./error-map";
export { FaultRegistry, AdminFaultSchema, seededRandom } from "./faults";
export type { Fault, FaultDecision, FaultRegistryOptions, AdminFault } from "./faults";
export {
  clientInterceptor,
  GRPC_SERVICES,
  grpcClient,
  GrpcError,
  grpcHealthCheck,
  loadProto,
  protoDir,
  serverMetricsInterceptor,
  serviceConstructor,
  startGrpcServer,
  unary,
  wrapService,
} from "./grpc-kit";
export type { GrpcServiceRegistration, UnaryImpl } from "./grpc-kit";
export { HttpApp, httpClient, listenHttp, NO_RESPONSE_STATUS, opsApp, UNMATCHED_ROUTE } from "./http-kit";
export type { RouteHandler } from "./http-kit";
export { closeHttpServer, ServiceKit, SHUTDOWN_DEADLINE_MS } from "./kit";
export { runMain, startLeafGrpcService } from "./leaf-service";
export { createLogger } from "./logger";
export type { Logger, LoggerHandle } from "./logger";
export {
  createMetrics,
  ExemplarHistogram,
  grpcPathLabels,
  preinitGrpc,
  preinitHttpClient,
  preinitHttpServer,
} from "./metrics";
export type { MeshMetrics, MetricsOptions } from "./metrics";
export { CHECK_TIMEOUT_MS, httpCheck, livenessChecks, runChecks } from "./probes";
export {
  BURN_PERIOD_MS,
  burnCpu,
  collectGarbage,
  HEAP_HEADROOM_BYTES,
  holdMemory,
  isResourceKind,
  RESOURCE_KINDS,
  ResourceFaultError,
  stallEventLoop,
  startResourceEffect,
} from "./resource-faults";
export type { ResourceEffect, ResourceFaultSpec, ResourceKind } from "./resource-faults";
export type { Check, ProbeBody, ProbeResult } from "./probes";
export {
  activeTraceIds,
  currentRequestId,
  REQUEST_ID_ATTRIBUTE,
  REQUEST_ID_HEADER,
  withRequestId,
} from "./request-context";
export { isUntracedRequest, registerTelemetry, telemetry } from "./telemetry-handle";
export type { TelemetryHandle } from "./telemetry-handle";
