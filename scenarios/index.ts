export { defineScenario, ScenarioError } from "./lib/scenario-model";
export type {
  ErrorFault,
  FaultKind,
  FaultSpec,
  LatencyFault,
  LinkDownFault,
  LinkLatencyFault,
  LoadPlan,
  RouteWeight,
  Scenario,
  ScenarioExpectations,
} from "./lib/scenario-model";
export { displayPath, loadCatalog, loadScenario, selectScenarios, validateScenario } from "./lib/loader";
export { scenarioSchema } from "./lib/schema";
export {
  checkoutErrorLayers,
  GATEWAY_STATUS_FOR_ORDERS_5XX,
  ORDERS_STATUS_FOR_GRPC,
  ORDERS_STATUS_REDIS_ERROR,
  MESH_LINKS,
  MESH_SERVICES,
  MESH_TOPOLOGY,
} from "./lib/mesh";
export type { MeshService } from "./lib/mesh";
