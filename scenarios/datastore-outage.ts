import type { FaultSpecOf } from "../assertions/faults";
import { errorSurfacesFor, readinessFlipsFor } from "./lib/derive";
import { datastoreLinks, defineTemplate, faultScenarioLoad, meshExpectations } from "./lib/template";

export default defineTemplate({
  template: "datastore-outage",
  summary: "the datastore goes away: its link down for 3 s",
  bind(mesh) {
    const found = datastoreLinks(mesh)[0];
    if (!found)
      return {
        template: "datastore-outage",
        reason: "the mesh declares no link to a datastore (a service of role datastore)",
      };
    const { link, datastore } = found;
    const caller = mesh.links[link]!.from;
    const fault: FaultSpecOf<"link-down"> = {
      kind: "link-down",
      target: link,
      atMs: 2_000,
      durationMs: 3_000,
      params: {},
    };
    const surfaces = errorSurfacesFor(mesh, fault, { link }, { codes: "datastore" });
    const flips = readinessFlipsFor(mesh, fault);
    return {
      name: `${datastore}-outage`,
      description: `The ${caller} -> ${datastore} link is down for 3 s: ${caller} turns unready naming ${datastore}, requests through it fail, all recover.`,
      load: faultScenarioLoad(mesh),
      faults: [fault],
      expectations: meshExpectations(mesh, { errorSurfaces: surfaces, readinessFlips: flips }),
    };
  },
});
