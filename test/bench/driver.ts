/**
 * Inline load driver vs wrk on the same gateway route (GET /api/products/:sku), and the driver's schedule drift.
 * Prints figures; targets: driver rate >= 80% of wrk's, p99 schedule drift <= 5 ms.
 * Usage: npm run bench:driver [-- --seconds 8]
 */
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { NativeBackend } from "../../harness/backends";
import { runInlineLoad } from "../../harness/load/inline-driver";
import { MESH_ROUTES } from "../../harness/load/routes";
import { startMesh } from "../../harness/mesh";
import { percentile } from "../../harness/run";
import { provisionTools } from "../../harness/tools/provision";

const run = promisify(execFile);
const ROUTE = "GET /api/products/:sku";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" } } });
  const seconds = Number(values.seconds);
  await provisionTools();
  await using stack = await new NativeBackend().start();
  await using mesh = await startMesh(stack, { seed: 1 });
  const url = `${mesh.gatewayUrl}/api/products/sku-1`;

  const wrk = await run("wrk", ["-t1", "-c16", `-d${seconds}s`, "--latency", url]).catch((error: Error) => {
    throw new Error(`wrk failed (${error.message}); install it with: apt-get install -y wrk`);
  });
  const wrkRate = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1]);
  console.log(`wrk -t1 -c16 ${seconds}s on ${ROUTE}: ${wrkRate.toFixed(0)} req/s`);

  for (const ratePerSec of [100, Math.round(wrkRate)]) {
    const t = performance.now();
    const result = await runInlineLoad(
      { ratePerSec, durationMs: seconds * 1000, routes: [{ route: ROUTE, weight: 1 }], seed: 1 },
      { baseUrl: mesh.gatewayUrl, routes: MESH_ROUTES },
    );
    const elapsedSec = (performance.now() - t) / 1000;
    const ok = result.requests.filter((r) => r.status === 200).length;
    const achieved = result.requests.length / elapsedSec;
    console.log(
      `inline driver at ${ratePerSec} req/s: ${achieved.toFixed(0)} req/s achieved ` +
        `(${((achieved / wrkRate) * 100).toFixed(0)}% of wrk; ${ok}/${result.requests.length} ok), ` +
        `schedule drift p50 ${percentile(result.scheduleDriftMs, 0.5)} ms, p99 ${percentile(result.scheduleDriftMs, 0.99)} ms`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
