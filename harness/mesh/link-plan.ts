import crypto from "node:crypto";
import type { LinkConfig, MeshConfig } from "../config/mesh-config";
import { LOOPBACK } from "../util/ports";

/** The ports planned links take: a block below the kernel's ephemeral range, away from where free ports are picked. */
const PLANNED_PORTS = { from: 24_000, size: 4_000 };

/**
 * Where meshproof's proxy for a link of a mesh the user starts listens: the link's `listen`, else a port derived from
 * the config's name and the link's, so `npm run mesh:plan` and a later run agree without a file between them.
 */
export function plannedListen(config: MeshConfig, name: string, link: LinkConfig): string {
  if (link.listen) return link.listen;
  const digest = crypto.createHash("sha256").update(`${config.name}\0${name}`).digest();
  return `${LOOPBACK}:${PLANNED_PORTS.from + (digest.readUInt32BE(0) % PLANNED_PORTS.size)}`;
}

/** The links of a mesh the user starts that meshproof proxies itself (those without a proxy of the mesh's own). */
export function plannedLinks(config: MeshConfig): [string, LinkConfig][] {
  return Object.entries(config.links ?? {}).filter(([, l]) => !l.proxy);
}

/** What to point each caller at, one line per link, for `npm run mesh:plan`. */
export function meshPlan(config: MeshConfig): string {
  if (Object.values(config.services).every((s) => s.launch))
    return `${config.name}: meshproof launches every service and points each caller at its link's proxy itself ({{link:NAME}} in the commands): nothing to start; run npm run scenario -- --config FILE\n`;
  const links = plannedLinks(config);
  if (!links.length)
    return `${config.name}: no link for meshproof to proxy (each declares its own proxy, or none is declared)\n`;
  const lines = links.map(([name, l]) => {
    const listen = plannedListen(config, name, l);
    return `  ${name.padEnd(24)} point ${l.from}'s address of ${l.to} at ${listen}  (meshproof forwards to ${l.address})`;
  });
  return `${[`${config.name}: start the services with these addresses, then run npm run scenario -- --config FILE`, ...lines].join("\n")}\n`;
}
