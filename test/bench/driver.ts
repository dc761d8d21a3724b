/**
 * The load drivers side by side on one endpoint of a real mesh (GET /api/products/:sku): wrk (closed loop, 16
 * connections) sets the pace; the inline driver and the k6 driver then offer wrk's rate open-model. Prints each as
 * ratios to wrk (rate achieved, p50/p99 latency) and each driver's schedule drift.
 * Targets: a driver achieves >= 80% of wrk's rate; inline p99 schedule drift <= 5 ms at moderate rates.
 * Usage: npm run bench:driver [-- --seconds 5]
 */
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import type { RequestRecord } from "../../assertions/evidence";
import { NativeBackend } from "../../harness/backends";
import { percentileOf, runInlineLoad, type LoadResult } from "../../harness/load/inline-driver";
import { runK6Load } from "../../harness/load/k6-driver";
import type { LoadPlan } from "../../harness/load/load-plan";
import { MESH_ROUTES } from "../../harness/load/routes";
import { startMesh } from "../../harness/mesh";
import { provisionTools } from "../../harness/tools/provision";
import { BACKEND_TOOL_NAMES } from "../../harness/tools/tools";

const run = promisify(execFile);
const ROUTE = "GET /api/products/:sku";

interface Row {
  driver: string;
  offered: string;
  rate: number;
  p50: number;
  p99: number;
  drift?: string;
  note?: string;
}

/** wrk is a Debian package: installed with apt when missing (as root), else the command to run is named. */
async function ensureWrk(): Promise<void> {
  if (
    await run("sh", ["-c", "command -v wrk"]).then(
      () => true,
      () => false,
    )
  )
    return;
  const fix = "apt-get update && apt-get install -y wrk";
  if (process.getuid?.() !== 0) throw new Error(`wrk is missing; install it: sudo ${fix}`);
  console.error(`wrk is missing; ${fix}`);
  await run("sh", ["-c", `DEBIAN_FRONTEND=noninteractive ${fix}`], { maxBuffer: 64 << 20 });
}

/** wrk's "Latency Distribution" line for a percentile, in ms. */
function wrkPercentileMs(stdout: string, p: string): number {
  const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(stdout);
  if (!match) throw new Error(`no ${p}% line in wrk's output:\n${stdout}`);
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
}

function rowOf(driver: string, offered: number, result: LoadResult, note?: string): Row {
  const ok: RequestRecord[] = result.requests.filter((r) => r.status === 200);
  const latencies = ok.map((r) => r.endMs - r.startMs);
  const spanSec =
    (Math.max(...result.requests.map((r) => r.endMs)) - Math.min(...result.requests.map((r) => r.startMs))) / 1000;
  return {
    driver,
    offered: `${offered}/s`,
    rate: ok.length / spanSec,
    p50: percentileOf(latencies, 0.5),
    p99: percentileOf(latencies, 0.99),
    drift: `${percentileOf(result.scheduleDriftMs, 0.5)} / ${result.scheduleDriftP99Ms}`,
    note: `${ok.length}/${result.requests.length} ok${note ? `; ${note}` : ""}`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
  const seconds = Number(values.seconds);
  await ensureWrk();
  const tools = await provisionTools({ tools: [...BACKEND_TOOL_NAMES, "k6"] });
  await using stack = await new NativeBackend().start({ tools });
  await using mesh = await startMesh(stack, { seed: 1 });
  const url = `${mesh.gatewayUrl}/api/products/sku-1`;

  const wrk = await run("wrk", ["-t1", "-c16", `-d${seconds}s`, "--latency", url]);
  const wrkRate = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout)?.[1]);
  const rows: Row[] = [
    {
      driver: "wrk",
      offered: "closed, 16 conns",
      rate: wrkRate,
      p50: wrkPercentileMs(wrk.stdout, "50"),
      p99: wrkPercentileMs(wrk.stdout, "99"),
    },
  ];

  const rate = Math.max(1, Math.round(wrkRate));
  const plan: LoadPlan = {
    ratePerSec: rate,
    durationMs: seconds * 1000,
    routes: [{ route: ROUTE, weight: 1 }],
    seed: 1,
  };
  const target = { baseUrl: mesh.gatewayUrl, routes: MESH_ROUTES };
  rows.push(rowOf("inline", rate, await runInlineLoad(plan, target)));
  const k6 = await runK6Load(plan, target);
  rows.push(
    rowOf("k6", rate, k6, `${k6.k6.droppedIterations} dropped, ${k6.k6.scenario.maxVUs} max VUs, ${k6.k6.outcome}`),
  );
  // A moderate rate, where neither driver is the bottleneck: their own accuracy.
  const moderate: LoadPlan = { ...plan, ratePerSec: 100 };
  rows.push(rowOf("inline", 100, await runInlineLoad(moderate, target)));
  const k6Moderate = await runK6Load(moderate, target);
  rows.push(rowOf("k6", 100, k6Moderate, `${k6Moderate.k6.droppedIterations} dropped`));

  const wrkRow = rows[0]!;
  const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}x`;
  const header = [
    "driver",
    "offered",
    "achieved/s",
    "x wrk",
    "p50 ms",
    "x wrk",
    "p99 ms",
    "x wrk",
    "drift p50/p99 ms",
    "notes",
  ];
  const table = rows.map((r) => [
    r.driver,
    r.offered,
    r.rate.toFixed(0),
    ratio(r.rate, wrkRow.rate),
    r.p50.toFixed(2),
    ratio(r.p50, wrkRow.p50),
    r.p99.toFixed(2),
    ratio(r.p99, wrkRow.p99),
    r.drift ?? "-",
    r.note ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  console.log(
    `${ROUTE} on ${mesh.gatewayUrl}, ${seconds} s per run (latency of 200s only; drift vs each driver's schedule)`,
  );
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of table) console.log(line(row));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
