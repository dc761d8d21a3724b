import type { FaultMeans, MeshTopology } from "../../scenarios/lib/topology";
import type { MeshConfig } from "./mesh-config";

/** The config's mesh as the catalog's templates see it, with the means of fault injection the harness has on it. */
export function topologyOf(config: MeshConfig, means: FaultMeans): MeshTopology {
  return {
    name: config.name,
    services: Object.fromEntries(
      Object.entries(config.services).map(([name, s]) => [
        name,
        {
          role: s.role ?? "internal",
          protocol: s.protocol,
          ...(s.runtime ? { runtime: s.runtime } : {}),
          ...(s.errors ? { errors: s.errors } : {}),
          ...(s.probes ? { probes: s.probes } : {}),
        },
      ]),
    ),
    links: Object.fromEntries(
      Object.entries(config.links ?? {}).map(([name, l]) => [
        name,
        { from: l.from, to: l.to, protocol: l.protocol, ...(l.timeoutMs ? { timeoutMs: l.timeoutMs } : {}) },
      ]),
    ),
    routes: Object.fromEntries(
      Object.entries(config.routes).map(([name, r]) => [
        name,
        { hops: r.hops, ...(r.weight ? { weight: r.weight } : {}) },
      ]),
    ),
    means,
  };
}
