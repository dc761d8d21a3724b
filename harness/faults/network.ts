import type { FaultKind, FaultParams } from "../../assertions/faults";
import type { ToxicSpec } from "../backends/toxiproxy";
import { ConfigError } from "../errors";
import type { StartedMesh } from "../mesh/started-mesh";
import { needs, type FaultInjector } from "./injector";

type LinkKind = Extract<FaultKind, `link-${string}`>;

/** The Toxiproxy proxy of the fault's link; ConfigError when the mesh routes no such link through Toxiproxy. */
function proxyOf(fault: { target: string }, mesh: StartedMesh) {
  const proxy = mesh.links[fault.target];
  if (!mesh.toxiproxy || proxy === undefined)
    throw new ConfigError(
      `fault target "${fault.target}" is not a link of the mesh routed through Toxiproxy; links: ${Object.keys(mesh.links).join(", ") || "none"}`,
    );
  return { toxiproxy: mesh.toxiproxy, proxy };
}

/** "link-down": the proxy disabled (connections closed, new ones refused), enabled again on revert. */
export const linkDown: FaultInjector<"link-down"> = {
  via: "toxiproxy",
  whyNot: needs("links", "Toxiproxy proxy (no link of that name goes through one)"),
  validate: (fault, mesh) => void proxyOf(fault, mesh),
  async apply(fault, mesh) {
    const { toxiproxy, proxy } = proxyOf(fault, mesh);
    const appliedAtMs = Date.now();
    await toxiproxy.setEnabled(proxy, false);
    return { appliedAtMs, revert: async () => void (await toxiproxy.setEnabled(proxy, true)) };
  },
};

/** A fault made of Toxiproxy toxics on the link's proxy, removed on revert. */
function toxic<K extends LinkKind>(make: (params: FaultParams<K>) => ToxicSpec[]): FaultInjector<K> {
  return {
    via: "toxiproxy",
    whyNot: needs("links", "Toxiproxy proxy (no link of that name goes through one)"),
    validate: (fault, mesh) => void proxyOf(fault, mesh),
    async apply(fault, mesh, id) {
      const { toxiproxy, proxy } = proxyOf(fault, mesh);
      const { params } = fault as unknown as { params: FaultParams<K> };
      const added = make(params).map((t, i) => ({ ...t, name: `${id}-${i}` }));
      const appliedAtMs = Date.now();
      for (const t of added) await toxiproxy.addToxic(proxy, t);
      return {
        appliedAtMs,
        revert: async () => void (await Promise.all(added.map((t) => toxiproxy.removeToxic(proxy, t.name)))),
      };
    },
  };
}

/** Both directions where the fault is about the link, not one answer. */
const BOTH = ["upstream", "downstream"] as const;

export const linkLatency = toxic<"link-latency">((p) => [
  { type: "latency", attributes: { latency: p.ms, jitter: 0 } },
]);
export const linkTimeout = toxic<"link-timeout">((p) =>
  BOTH.map((stream) => ({ type: "timeout", stream, attributes: { timeout: p.timeoutMs } })),
);
export const linkReset = toxic<"link-reset">((p) => [{ type: "reset_peer", attributes: { timeout: p.timeoutMs } }]);
export const linkBandwidth = toxic<"link-bandwidth">((p) =>
  BOTH.map((stream) => ({ type: "bandwidth", stream, attributes: { rate: p.kbPerSec } })),
);
