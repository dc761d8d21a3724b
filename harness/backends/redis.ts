import net from "node:net";
import { LOOPBACK } from "../util/ports";
import { startComponent, type ComponentRunner, type StartedComponent } from "./component";

export interface StartedRedis {
  component: StartedComponent<"redis">;
  host: string;
  port: number;
  url: string;
}

/** Sends PING over a fresh connection; resolves with the reply line (e.g. "+PONG"). */
export function redisPing(host: string, port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no PING reply from ${host}:${port} within ${timeoutMs} ms`)),
    );
    let reply = "";
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) {
        socket.end();
        resolve(reply.trim());
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`connection to ${host}:${port} closed before a PING reply`)));
  });
}

/** Redis on loopback without persistence. */
export async function startRedis(runner: ComponentRunner, runDir: string, fixedPort?: number): Promise<StartedRedis> {
  const component = await startComponent(
    {
      name: "redis",
      portNames: ["redis"],
      fixedPorts: fixedPort === undefined ? {} : { redis: fixedPort },
      args: (ports, dir) => [
        "--bind",
        LOOPBACK,
        "--port",
        String(ports.redis),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
      ],
      ready: async (ports) => (await redisPing(LOOPBACK, ports.redis)) === "+PONG",
      readyDescription: (ports) => `PING ${LOOPBACK}:${ports.redis}`,
    },
    runDir,
    runner,
  );
  const port = component.ports.redis;
  return { component, host: LOOPBACK, port, url: `redis://${LOOPBACK}:${port}` };
}
