import fs from "node:fs";
import net from "node:net";
import { freePort, LOOPBACK } from "../../../harness/util/ports";

describe("free ports", () => {
  test("lie below the kernel's ephemeral range, are never handed out twice, and can be bound", async () => {
    const ephemeralLow = Number(
      fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(ports[0], LOOPBACK, resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
