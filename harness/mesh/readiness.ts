import net from "node:net";

/**
 * Whether a service answers ready at `url`: a 2xx for an http(s):// URL, an accepted connection for tcp://host:port
 * (a service with no HTTP endpoint that answers 2xx, such as a gRPC server without the health service).
 */
export async function answersReady(url: string, timeoutMs = 2_000): Promise<boolean> {
  if (url.startsWith("tcp://")) {
    const { hostname, port } = new URL(url);
    return new Promise((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port), timeout: timeoutMs });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
      socket.once("timeout", () => done(false));
    });
  }
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
  return response !== undefined && response.status >= 200 && response.status < 300;
}
