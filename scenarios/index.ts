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
export {
  displayPath,
  loadBoundCatalog,
  loadCatalog,
  loadScenario,
  selectScenarios,
  validateScenario,
} from "./lib/loader";
export type { BoundCatalog } from "./lib/loader";
export { scenarioSchema } from "./lib/schema";
export { CHECKOUT, MESH_LINKS, MESH_SERVICES, MESH_TOPOLOGY, PRODUCT, sampleTopology } from "./lib/sample-topology";
export type { MeshLink, MeshServiceName } from "./lib/sample-topology";
export { defineTemplate, isUnbound, loadRoutes } from "./lib/template";
export type { ScenarioTemplate, Unbound } from "./lib/template";
export type { FaultMeans, MeshTopology, TopologyLink, TopologyRoute, TopologyService } from "./lib/topology";
