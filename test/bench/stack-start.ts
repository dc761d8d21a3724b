/**
 * Prints native stack start and stop times (first start in a fresh process = "cold", later ones = "warm"),
 * and how long Prometheus takes to scrape a file_sd target after it is written.
 * Usage: npm run bench:stack [-- --runs N]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { NativeBackend } from "../../harness/backends";
import { provisionTools } from "../../harness/tools/provision";
import { BACKEND_TOOL_NAMES } from "../../harness/tools/tools";
import { LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Math.max(2, Number(values.runs));

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (n=${sorted.length})`;
}

async function main(): Promise<void> {
  let t = performance.now();
  await provisionTools({ tools: BACKEND_TOOL_NAMES });
  console.log(`tool check (all provisioned): ${(performance.now() - t).toFixed(0)} ms`);

  const starts: number[] = [];
  const stops: number[] = [];
  const fileSd: number[] = [];
  const target = http.createServer((_req, res) => res.end("# TYPE bench_value gauge\nbench_value 1\n"));
  await new Promise<void>((resolve) => target.listen(0, LOOPBACK, resolve));
  const address = `${LOOPBACK}:${(target.address() as AddressInfo).port}`;

  for (let i = 0; i < runs; i++) {
    t = performance.now();
    const stack = await new NativeBackend().start();
    starts.push(performance.now() - t);
    if (i < 3) {
      t = performance.now();
      stack.prometheus.addTargets("bench", [{ address }]);
      await retryUntil(
        () => stack.prometheus.query(`up{instance="${address}"}`),
        (s) => s[0]?.value === 1,
        {
          timeoutMs: 20_000,
          description: "file_sd target scraped",
          maxDelayMs: 50,
        },
      );
      fileSd.push(performance.now() - t);
    }
    t = performance.now();
    await stack.stop();
    stops.push(performance.now() - t);
  }
  target.close();
  console.log(`stack start, cold (first in this process): ${starts[0]!.toFixed(0)} ms`);
  console.log(`stack start, warm: ${stats(starts.slice(1))}   target: <= 5000 ms`);
  console.log(`stack stop: ${stats(stops)}`);
  console.log(`file_sd target written -> up == 1: ${stats(fileSd)}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
