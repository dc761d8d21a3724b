import net from "node:net";
import { PortInUseError } from "../errors";

export const LOOPBACK = "127.0.0.1";

// Ports handed out by this process and not yet known to be bound by their owner: never hand one out twice.
const handedOut = new Set<number>();

/** A port that is free on 127.0.0.1 now (chosen by the kernel). The caller binds it soon after. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once("error", reject);
      server.listen(0, LOOPBACK, () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("could not find a free port on 127.0.0.1 after 20 attempts");
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
