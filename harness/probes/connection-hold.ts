import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Idle TCP connections the harness holds open to a Go service's /metrics port during load. Go's net/http serves each
 * accepted connection on its own goroutine, so a live go_goroutines rises by about `count` while they are held and a
 * frozen gauge does not: the count moves because the harness moved it, not by the luck of a scrape landing on an
 * in-flight request (a gRPC service under light load shows the same count at most scrapes).
 */
export const HELD_CONNECTIONS = 8;
/** Three Prometheus scrape intervals (1 s): at least two scrapes see the connections held. */
export const HOLD_MS = 3_000;

/**
 * Opens `count` connections to each host:port, keeps them for holdMs (or until the signal aborts), then closes them.
 * Never throws: a service that refuses connections simply sees none held (the judge reads the gauge, not this).
 */
export async function holdConnections(
  instances: readonly string[],
  {
    count = HELD_CONNECTIONS,
    holdMs = HOLD_MS,
    signal,
  }: { count?: number; holdMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const sockets = instances.flatMap((instance) => {
    const colon = instance.lastIndexOf(":");
    const host = instance.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(instance.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) return [];
    return Array.from({ length: count }, () => net.connect({ host, port }).on("error", () => undefined));
  });
  try {
    await sleep(holdMs, undefined, signal ? { signal } : {});
  } catch {
    // aborted: the load ended first
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}
