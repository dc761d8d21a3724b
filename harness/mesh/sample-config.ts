import { sampleTopology } from "../../scenarios/lib/sample-topology";
import type { MeshConfig, ServiceConfig } from "../config/mesh-config";
import { MESH_ROUTES } from "../load/routes";
import { createRng } from "../util/rng";
import { SAMPLE_MESH, type MeshServiceName } from "./sample-mesh";

/** Where one running service of the sample mesh answers, as its config states it. */
export type SampleServiceEndpoints = Pick<
  ServiceConfig,
  "url" | "metricsUrl" | "healthzUrl" | "readyzUrl" | "logFile" | "admin" | "pid" | "contract"
>;

/**
 * The config that describes a running sample mesh to the judge as a mesh it did not start (npm run mesh, the compose
 * deployment): its endpoints as given, and the sample mesh's routes, links (through the given Toxiproxy proxies),
 * error table and probe model.
 */
export function sampleMeshConfig(parts: {
  name: string;
  services: Record<MeshServiceName, SampleServiceEndpoints>;
  traces: MeshConfig["traces"];
  prometheus: MeshConfig["prometheus"];
  toxiproxy: { url: string; proxies: Record<string, { proxy: string; address: string }> };
}): MeshConfig {
  const topology = sampleTopology();
  const rng = createRng(1);
  return {
    name: parts.name,
    services: {
      ...Object.fromEntries(
        Object.entries(parts.services).map(([name, endpoints]) => {
          const spec = SAMPLE_MESH[name as MeshServiceName];
          const modelled = topology.services[name]!;
          return [
            name,
            {
              role: spec.role,
              protocol: spec.protocol,
              operations: spec.operations,
              ...(modelled.errors ? { errors: modelled.errors } : {}),
              ...(modelled.probes ? { probes: modelled.probes } : {}),
              ...endpoints,
            } satisfies ServiceConfig,
          ];
        }),
      ),
      redis: { role: "datastore", protocol: "redis" },
    },
    links: Object.fromEntries(
      Object.entries(topology.links).map(([name, l]) => [
        name,
        {
          ...l,
          address: parts.toxiproxy.proxies[name]!.address,
          proxy: parts.toxiproxy.proxies[name]!.proxy,
        },
      ]),
    ),
    routes: Object.fromEntries(
      Object.entries(topology.routes).map(([name, r]) => [
        name,
        { request: MESH_ROUTES[name]!(rng) as never, hops: [...r.hops], ...(r.weight ? { weight: r.weight } : {}) },
      ]),
    ),
    ...(parts.traces ? { traces: parts.traces } : {}),
    ...(parts.prometheus ? { prometheus: parts.prometheus } : {}),
    toxiproxy: { url: parts.toxiproxy.url },
    // The kit's batch span processor exports every second.
    exportIntervalMs: 1_000,
  };
}
