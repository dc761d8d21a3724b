import type { FaultKind, FaultParams } from "../../assertions/faults";
import { ToxiproxyClient, type ToxicSpec } from "../backends/toxiproxy";
import { ConfigError } from "../errors";
import type { StartedMesh } from "../mesh/started-mesh";
import type { Leftover } from "./disk-journal";
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
  leftover(fault, mesh) {
    const { toxiproxy, proxy } = proxyOf(fault, mesh);
    return { via: "toxiproxy", url: toxiproxy.url, proxy, enable: true, toxics: [] };
  },
  async apply(fault, mesh) {
    const { toxiproxy, proxy } = proxyOf(fault, mesh);
    const appliedAtMs = Date.now();
    await toxiproxy.setEnabled(proxy, false);
    return { appliedAtMs, revert: async () => void (await toxiproxy.setEnabled(proxy, true)) };
  },
};

/** A fault made of Toxiproxy toxics on the link's proxy, removed on revert. */
function toxic<K extends LinkKind>(make: (params: FaultParams<K>) => ToxicSpec[]): FaultInjector<K> {
  // Named after the fault's journal id: the journal on disk names them before they exist.
  const toxicsOf = (fault: unknown, id: string) =>
    make((fault as { params: FaultParams<K> }).params).map((t, i) => ({ ...t, name: `${id}-${i}` }));
  return {
    via: "toxiproxy",
    whyNot: needs("links", "Toxiproxy proxy (no link of that name goes through one)"),
    validate: (fault, mesh) => void proxyOf(fault, mesh),
    leftover(fault, mesh, id) {
      const { toxiproxy, proxy } = proxyOf(fault, mesh);
      return {
        via: "toxiproxy",
        url: toxiproxy.url,
        proxy,
        enable: false,
        toxics: toxicsOf(fault, id).map((t) => t.name),
      };
    },
    async apply(fault, mesh, id) {
      const { toxiproxy, proxy } = proxyOf(fault, mesh);
      const added = toxicsOf(fault, id);
      const appliedAtMs = Date.now();
      for (const t of added) await toxiproxy.addToxic(proxy, t);
      return {
        appliedAtMs,
        revert: async () => void (await Promise.all(added.map((t) => toxiproxy.removeToxic(proxy, t.name)))),
      };
    },
  };
}

/**
 * Undoes a link fault through Toxiproxy's HTTP API alone (the lifeline's and a later run's revert): the proxy
 * enabled again, its toxics removed. A Toxiproxy that no longer answers, or no longer has the proxy, took the fault
 * with it: said in the note it resolves with.
 */
export async function revertLinkLeftover(leftover: Extract<Leftover, { via: "toxiproxy" }>): Promise<string | void> {
  const client = new ToxiproxyClient(leftover.url);
  try {
    if (!(await client.proxies()).some((p) => p.name === leftover.proxy))
      return `Toxiproxy at ${leftover.url} has no proxy ${leftover.proxy} any more: the fault went with it`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if (cause === "ECONNREFUSED") return `Toxiproxy at ${leftover.url} is gone: the fault went with it`;
    throw error;
  }
  if (leftover.enable) await client.setEnabled(leftover.proxy, true);
  await Promise.all(leftover.toxics.map((t) => client.removeToxic(leftover.proxy, t)));
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
