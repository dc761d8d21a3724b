/**
 * The L7 fault proxy as a process: `node dist/harness/faults/l7-proxy/main.js --control 127.0.0.1:0`. Prints one
 * JSON line {"control":"http://127.0.0.1:PORT"} on stdout once the control API listens; SIGTERM or SIGINT stop every
 * proxy and exit 0. Exit code 2 when it cannot start.
 */
import { parseArgs } from "node:util";
import { LOOPBACK_ADDRESS } from "./api-schema";
import { L7ProxyServer } from "./server";

const STOP_GRACE_MS = 3_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { control: { type: "string", default: "127.0.0.1:0" } } });
  if (!LOOPBACK_ADDRESS.test(values.control))
    throw new Error(`--control must be 127.0.0.1:PORT (got "${values.control}"): no listener leaves loopback`);
  const server = await L7ProxyServer.start(values.control);
  process.stdout.write(`${JSON.stringify({ control: server.controlUrl })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A proxy connection that does not close in time must not keep the process from exiting.
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`l7-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
