import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { holdConnections } from "../../../harness/probes/connection-hold";
import { LOOPBACK } from "../../../harness/util/ports";

/** A server that counts the connections open on it. */
async function countingServer() {
  let open = 0;
  const server = net.createServer((socket) => {
    open++;
    socket.on("close", () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as net.AddressInfo;
  return { instance: `${LOOPBACK}:${port}`, open: () => open, close: () => new Promise((r) => server.close(r)) };
}

describe("held connections (the stimulus a live goroutine gauge follows)", () => {
  test("holds count connections to each instance for the hold, then closes them all", async () => {
    const a = await countingServer();
    const b = await countingServer();
    const held = holdConnections([a.instance, b.instance], { count: 5, holdMs: 600 });
    await sleep(300);
    expect([a.open(), b.open()]).toEqual([5, 5]);
    await held;
    await sleep(100);
    expect([a.open(), b.open()]).toEqual([0, 0]);
    await Promise.all([a.close(), b.close()]);
  });

  test("ends when the load does (the signal), and an address that refuses or does not parse is no error", async () => {
    const a = await countingServer();
    const refused = await countingServer();
    await refused.close();
    const controller = new AbortController();
    const t0 = Date.now();
    const held = holdConnections([a.instance, refused.instance, "no-port"], {
      count: 3,
      holdMs: 10_000,
      signal: controller.signal,
    });
    await sleep(300);
    expect(a.open()).toBe(3);
    controller.abort();
    await held;
    expect(Date.now() - t0).toBeLessThan(2_000);
    await sleep(100);
    expect(a.open()).toBe(0);
    await a.close();
  });
});
