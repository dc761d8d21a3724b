import type { FaultSpecOf } from "../../assertions/faults";
import { ConfigError } from "../errors";
import type { StartedMesh } from "../mesh/started-mesh";
import type { MeshTopology } from "../../scenarios/lib/topology";
import type { FaultInjector } from "./injector";

/** The links into a request fault's service that have an L7 proxy in front of it, by topology. */
function l7LinksInto(fault: { target: string }, mesh: MeshTopology): string[] {
  const service = fault.target.split(".")[0]!;
  return mesh.means.l7.filter((l) => mesh.links[l]?.to === service);
}

/** The started mesh's L7 proxies in front of the fault's service, and the call they match. */
function proxiesOf(fault: { kind: string; target: string }, mesh: StartedMesh) {
  const dot = fault.target.indexOf(".");
  const service = dot < 0 ? fault.target : fault.target.slice(0, dot);
  const links = Object.entries(mesh.linkEnds ?? {}).filter(([, l]) => l.to === service);
  if (!mesh.l7 || links.length === 0)
    throw new ConfigError(`${fault.kind} on ${fault.target}: no link into ${service} has an L7 fault proxy`);
  return { l7: mesh.l7, links, match: dot < 0 ? undefined : fault.target.slice(dot + 1) };
}

/** A request fault answered (or delayed) by the L7 proxy in front of the callee, on every link into it. */
function throughL7<K extends "error" | "latency">(
  spec: (fault: FaultSpecOf<K>) => Record<string, unknown>,
): FaultInjector<K> {
  return {
    via: "l7",
    whyNot: (fault, mesh) =>
      l7LinksInto(fault, mesh).length
        ? undefined
        : `no link into ${(fault as { target: string }).target.split(".")[0]} has an L7 fault proxy (declare the links into it)`,
    validate: (fault, mesh) => void proxiesOf(fault, mesh),
    leftover: () => ({
      none: "the L7 fault proxy is a process of the harness: the lifeline ends it, and its faults with it",
    }),
    async apply(fault, mesh, id) {
      const { l7, links, match } = proxiesOf(fault, mesh);
      const appliedAtMs = Date.now();
      for (const [link] of links)
        await l7.addFault(link, { id, ...(match ? { match } : {}), seed: seedOf(id), ...spec(fault) } as never);
      const [only] = links;
      return {
        appliedAtMs,
        // A fault on one link acts where that link's calls leave their caller: the judge reads it as the link's.
        ...(links.length === 1 ? { details: { link: { name: only![0], ...only![1] } } } : {}),
        revert: async () => void (await Promise.all(links.map(([link]) => l7.removeFault(link, id)))),
      };
    },
  };
}

/** A seed per fault: its journal number. */
function seedOf(id: string): number {
  return Number(id.replace(/\D/g, "")) || 1;
}

export const l7Error = throughL7<"error">(({ params: p }) => ({
  kind: "error",
  rate: p.rate,
  ...(p.grpcCode ? { grpcCode: p.grpcCode } : {}),
  ...(p.httpStatus ? { httpStatus: p.httpStatus } : {}),
}));

export const l7Latency = throughL7<"latency">(({ params: p }) => ({
  kind: "latency",
  rate: 1,
  ms: p.ms,
  ...(p.jitterMs ? { jitterMs: p.jitterMs } : {}),
}));
