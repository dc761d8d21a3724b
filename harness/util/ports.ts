import fs from "node:fs";
import net from "node:net";
import { PortInUseError } from "../errors";

export const LOOPBACK = "127.0.0.1";

// Ports handed out by this process and not yet known to be bound by their owner: never hand one out twice.
const handedOut = new Set<number>();

/**
 * Where free ports are looked for: below the kernel's ephemeral range (ip_local_port_range), from 10000. A port the
 * kernel picks for bind(0) lies in that range, where any outgoing connection may take it as its local port before
 * the service binds it (a soak saw a service's start fail with EADDRINUSE under load); below it only a listener can.
 * Undefined (let the kernel pick) where the range cannot be read or leaves too little room.
 */
const LISTENER_PORTS = ((): { low: number; high: number } | undefined => {
  try {
    const low = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return low > 12_000 ? { low: 10_000, high: low - 1 } : undefined;
  } catch {
    return undefined;
  }
})();

/** A port that is free on 127.0.0.1 now, outside the ephemeral range where it can. The caller binds it soon after. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const wanted = LISTENER_PORTS
      ? LISTENER_PORTS.low + Math.floor(Math.random() * (LISTENER_PORTS.high - LISTENER_PORTS.low + 1))
      : 0;
    if (handedOut.has(wanted)) continue;
    const port = await bound(wanted);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("could not find a free port on 127.0.0.1 after 50 attempts");
}

/** Binds `port` (0: the kernel's pick) on 127.0.0.1 and releases it: the port, or undefined when it is taken. */
function bound(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" || error.code === "EACCES" ? resolve(undefined) : reject(error),
    );
    server.listen(port, LOOPBACK, () => {
      const { port: got } = server.address() as net.AddressInfo;
      server.close(() => resolve(got));
    });
  });
}

/** Throws PortInUseError when port cannot be bound on 127.0.0.1 (a port the user asked for explicitly). */
export async function assertPortFree(port: number, owner: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new PortInUseError(
              `port ${port} asked for ${owner} is already in use on ${LOOPBACK}; ` +
                `stop the process holding it (ss -ltnp 'sport = :${port}') or choose another port`,
            )
          : error,
      );
    });
    server.listen(port, LOOPBACK, () => server.close(() => resolve()));
  });
}
