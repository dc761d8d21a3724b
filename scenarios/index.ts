export { defineScenario, ScenarioError } from "./lib/scenario-model";
export type {
  FaultKind,
  FaultSpec,
  FaultSpecOf,
  ScenarioLoad,
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
export type { MeshLink, MeshServiceName } from "./lib/mesh";
