/**
 * The measured effect of each resource fault, as the harness will see it: the Node payments service (started as the
 * mesh starts it: --max-semi-space-size=1 --expose-gc, no tracing preload) and payments-go, each alone, read through
 * their /metrics and /healthz like Prometheus (1 s scrapes) and the probe poller (100 ms) would. Prints one line per
 * fault: size of the effect, time to it, what the revert leaves. services/README.md quotes the figures.
 * Usage: npm run build && node dist/test/bench/resource-faults.js [--skip-go] [--skip-node]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { AdminClient, type AdminFault } from "../../harness/mesh";
import { resolveTool } from "../../harness/tools/tools";
import { ManagedProcess } from "../../harness/util/managed-process";
import { freePort, LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";
import { GRPC_SERVICES, serviceConstructor } from "../../services/lib/grpc-kit";

const MIB = 1024 * 1024;
const TOKEN = "b".repeat(32);
const PaymentsClient = serviceConstructor("payments.proto", GRPC_SERVICES.payments);

interface Service {
  name: string;
  proc: ManagedProcess;
  admin: AdminClient;
  metrics(): Promise<string>;
  healthz(): Promise<number>;
  charge(): Promise<number>;
  stop(): Promise<void>;
}

async function start(runtime: "node" | "go", dir: string, nodeFlags: string[] = []): Promise<Service> {
  const [port, opsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const name = `${runtime}-${port}`;
  const command = runtime === "go" ? (await resolveTool("payments-go")).path : process.execPath;
  const args = runtime === "go" ? [] : [...nodeFlags, path.resolve(__dirname, "../../services/payments/main.js")];
  const proc = await ManagedProcess.spawn({
    name,
    command,
    args,
    logFile: path.join(dir, `${name}.log`),
    env: {
      PATH: process.env.PATH,
      MESHPROOF_SERVICE_NAME: "payments",
      MESHPROOF_PORT: String(port),
      MESHPROOF_OPS_PORT: String(opsPort),
      MESHPROOF_ADMIN_PORT: String(adminPort),
      MESHPROOF_ADMIN_TOKEN: TOKEN,
      MESHPROOF_LOG_FILE: path.join(dir, `${name}.jsonl`),
      MESHPROOF_OTLP_URL: "http://127.0.0.1:4318",
      OTEL_SDK_DISABLED: "true",
    },
  });
  const ops = `http://${LOOPBACK}:${opsPort}`;
  await retryUntil(
    async () => (await fetch(`${ops}/readyz`)).status,
    (s) => s === 200,
    {
      timeoutMs: 15_000,
      description: `${name} /readyz`,
      failFast: () => (proc.running ? undefined : new Error(`${name} ${proc.exitDescription}: ${proc.logTail()}`)),
    },
  );
  const client = new PaymentsClient(`${LOOPBACK}:${port}`, grpc.credentials.createInsecure());
  return {
    name,
    proc,
    admin: new AdminClient(`http://${LOOPBACK}:${adminPort}`, TOKEN),
    metrics: async () => (await fetch(`${ops}/metrics`)).text(),
    healthz: async () => (await fetch(`${ops}/healthz`)).status,
    charge: () =>
      new Promise((resolve) => {
        const started = performance.now();
        (client as unknown as Record<string, (...a: unknown[]) => void>).Charge!.call(
          client,
          { orderId: "bench", amountCents: 100, card: "4111111111111111" },
          new grpc.Metadata(),
          { deadline: Date.now() + 10_000 },
          () => resolve(performance.now() - started),
        );
      }),
    stop: async () => {
      client.close();
      await proc.stop(6_000);
    },
  };
}

function value(text: string, series: string): number {
  for (const line of text.split("\n")) if (line.startsWith(`${series} `)) return Number(line.split(" ")[1]);
  return NaN;
}

const mb = (bytes: number) => `${(bytes / MIB).toFixed(1)} MB`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function memory(service: Service, sizeMb: number, heapSeries: string): Promise<string> {
  const before = await service.metrics();
  const started = performance.now();
  const fault = await service.admin.addFault({ kind: "memory", mb: sizeMb });
  const appliedMs = performance.now() - started;
  const at0 = await service.metrics();
  await sleep(1_000);
  const at1 = await service.metrics();
  const revertStarted = performance.now();
  await service.admin.removeFault(fault.id);
  const revertMs = performance.now() - revertStarted;
  const after = await service.metrics();
  await sleep(5_000);
  const later = await service.metrics();
  const d = (text: string, series: string) => value(text, series) - value(before, series);
  return (
    `${service.name} memory ${sizeMb} MB: 201 after ${appliedMs.toFixed(0)} ms; ${heapSeries} +${mb(d(at0, heapSeries))} ` +
    `at once, +${mb(d(at1, heapSeries))} 1 s later; rss +${mb(d(at1, "process_resident_memory_bytes"))}; ` +
    `DELETE ${revertMs.toFixed(0)} ms, then heap ${mb(d(after, heapSeries))} over the start (5 s later ` +
    `${mb(d(later, heapSeries))}), rss ${mb(d(after, "process_resident_memory_bytes"))}`
  );
}

async function cpu(service: Service, fraction: number): Promise<string> {
  const rate = async (ms: number) => {
    const a = value(await service.metrics(), "process_cpu_seconds_total");
    const t = performance.now();
    await sleep(ms);
    return (value(await service.metrics(), "process_cpu_seconds_total") - a) / ((performance.now() - t) / 1000);
  };
  const idle = await rate(1_000);
  const started = performance.now();
  const fault = await service.admin.addFault({ kind: "cpu", fraction });
  const appliedMs = performance.now() - started;
  const first = await rate(1_000);
  const calls: number[] = [];
  for (let i = 0; i < 20; i++) calls.push(await service.charge());
  const second = await rate(2_000);
  await service.admin.removeFault(fault.id);
  const after = await rate(1_000);
  return (
    `${service.name} cpu ${fraction}: 201 after ${appliedMs.toFixed(0)} ms; process_cpu_seconds_total rate ` +
    `${idle.toFixed(3)} idle -> ${first.toFixed(3)} (first 1 s), ${second.toFixed(3)} (next 2 s); Charge p50 ` +
    `${percentile(calls, 50).toFixed(1)} ms meanwhile; after revert ${after.toFixed(3)} (load ${os.loadavg()[0]!.toFixed(2)})`
  );
}

/** A stall for 5 s: 1 s scrapes (lag max, utilisation, server histogram), 100 ms probes, a Charge every 50 ms. */
async function stall(service: Service, blockMs: number, everyMs: number): Promise<string> {
  await service.metrics();
  const started = performance.now();
  const fault = await service.admin.addFault({ kind: "stall", blockMs, everyMs } as AdminFault);
  const appliedMs = performance.now() - started;
  const end = performance.now() + 5_000;
  const scrapes: { lagMax: number; elu: number }[] = [];
  const probes: number[] = [];
  const calls: number[] = [];
  const scrape = (async () => {
    while (performance.now() < end) {
      await sleep(1_000);
      const text = await service.metrics();
      scrapes.push({
        lagMax: value(text, "nodejs_eventloop_lag_max_seconds"),
        elu: value(text, "nodejs_eventloop_utilization_ratio"),
      });
    }
  })();
  const probe = (async () => {
    while (performance.now() < end) {
      probes.push(await service.healthz());
      await sleep(100);
    }
  })();
  const call = (async () => {
    while (performance.now() < end) {
      calls.push(await service.charge());
      await sleep(50);
    }
  })();
  await Promise.all([scrape, probe, call]);
  const text = await service.metrics();
  await service.admin.removeFault(fault.id);
  const labels = 'grpc_service="meshproof.payments.v1.Payments",grpc_method="Charge",grpc_code="OK"';
  const count = value(text, `grpc_server_handling_seconds_count{${labels}}`);
  const fast = value(text, `grpc_server_handling_seconds_bucket{le="0.1",${labels}}`);
  return (
    `${service.name} stall ${blockMs}/${everyMs}: 201 after ${appliedMs.toFixed(0)} ms; per 1 s scrape lag max ` +
    `${scrapes.map((s) => (s.lagMax * 1000).toFixed(0)).join("/")} ms, utilisation ` +
    `${scrapes.map((s) => s.elu.toFixed(2)).join("/")}; /healthz 503 in ${probes.filter((s) => s === 503).length} ` +
    `of ${probes.length} probes; Charge (client) p50 ${percentile(calls, 50).toFixed(1)} p99 ` +
    `${percentile(calls, 99).toFixed(0)} max ${Math.max(...calls).toFixed(0)} ms over ${calls.length}; server histogram ` +
    `${count - fast} of ${count} calls above 0.1 s`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "skip-go": { type: "boolean" }, "skip-node": { type: "boolean" } } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-bench-resource-"));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(
    `machine: ${os.availableParallelism()} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  if (!values["skip-node"]) {
    const node = await start("node", dir, ["--max-semi-space-size=1", "--expose-gc"]);
    try {
      for (const size of [64, 256, 1024]) print(await memory(node, size, "nodejs_heap_size_used_bytes"));
      for (const [b, e] of [
        [200, 1000],
        [400, 1000],
        [600, 1000],
        [600, 3000],
      ] as const)
        print(await stall(node, b, e));
      for (const f of [0.25, 0.5, 1]) print(await cpu(node, f));
    } finally {
      await node.stop();
    }
    const noGc = await start("node", dir, ["--max-semi-space-size=1"]);
    try {
      print(`(without --expose-gc) ${await memory(noGc, 64, "nodejs_heap_size_used_bytes")}`);
    } finally {
      await noGc.stop();
    }
  }
  if (!values["skip-go"]) {
    const go = await start("go", dir);
    try {
      for (const size of [64, 256, 1024]) print(await memory(go, size, "go_memstats_heap_alloc_bytes"));
      for (const f of [0.25, 0.5, 1]) print(await cpu(go, f));
    } finally {
      await go.stop();
    }
  }
  print(
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
