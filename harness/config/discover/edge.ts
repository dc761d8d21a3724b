import { ConfigError } from "../../errors";
import type { ActiveTarget } from "./answers";
import type { Notes } from "./draft";
import { mostCommon } from "./routes";
import { crossesServices, rootServer, type SampledTrace } from "./sampled-traces";
import { isLoopback, portOf, servedAddress } from "./span-facts";

export interface EdgeGuess {
  service: string;
  url: string;
}

/**
 * The edge service and its URL: the service `--edge URL` points at (by the port its root spans were reached at, or
 * its Prometheus target's), else the one owning the most root spans of traces that call another service.
 */
export function chooseEdge(
  traces: readonly SampledTrace[],
  edgeUrl: string | undefined,
  targets: ReadonlyMap<string, ActiveTarget>,
  notes: Notes,
): EdgeGuess {
  const roots = new Map<string, number>();
  const served = new Map<string, string[]>();
  for (const t of traces) {
    const root = rootServer(t);
    if (!root || !crossesServices(t)) continue;
    roots.set(root.service, (roots.get(root.service) ?? 0) + 1);
    const address = servedAddress(root);
    if (address) served.set(root.service, [...(served.get(root.service) ?? []), address]);
  }
  const [top, count] = [...roots].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? [];
  if (!top)
    throw new ConfigError(
      `no sampled trace starts at one service and calls another (${traces.length} traces read): send a few requests through the mesh's edge, then run init again`,
    );
  const mostRoots = `${top} owns the most root spans of requests that call other services (${count} of ${traces.length} sampled traces)`;
  if (edgeUrl)
    return { service: edgeOfUrl(edgeUrl, served, targets, notes) ?? fallback(top, mostRoots, notes), url: edgeUrl };
  notes.guess(["services", top, "role"], mostRoots);
  const [address, times] = mostCommon(served.get(top) ?? []);
  const loopback = address?.replace(/^localhost:/, "127.0.0.1:");
  if (!loopback || !isLoopback(loopback))
    throw new ConfigError(
      `could not tell where the edge ${top} listens (its root spans say ${address ?? "nothing"}): give --edge URL (http://127.0.0.1:PORT)`,
    );
  notes.guess(["services", top, "url"], `server.address and server.port of ${times} of its root spans`);
  return { service: top, url: `http://${loopback}` };
}

function edgeOfUrl(
  edgeUrl: string,
  served: ReadonlyMap<string, string[]>,
  targets: ReadonlyMap<string, ActiveTarget>,
  notes: Notes,
): string | undefined {
  const port = portOf(new URL(edgeUrl).host) ?? (edgeUrl.startsWith("https:") ? "443" : "80");
  const bySpans = [...served].find(([, addresses]) => addresses.some((a) => portOf(a) === port))?.[0];
  if (bySpans) {
    notes.guess(["services", bySpans, "role"], `--edge ${edgeUrl}: its root spans were reached at port ${port}`);
    return bySpans;
  }
  const byTarget = [...targets].find(([, t]) => portOf(t.labels.instance ?? "") === port)?.[0];
  if (byTarget)
    notes.guess(["services", byTarget, "role"], `--edge ${edgeUrl}: its Prometheus target is at port ${port}`);
  return byTarget;
}

function fallback(top: string, mostRoots: string, notes: Notes): string {
  notes.guess(["services", top, "role"], `--edge matched no service's spans or target; ${mostRoots}`);
  return top;
}
