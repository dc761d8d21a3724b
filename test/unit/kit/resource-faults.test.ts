import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { ManagedProcess } from "../../../harness/util/managed-process";
import { freePort, LOOPBACK } from "../../../harness/util/ports";
import { retryUntil } from "../../../harness/util/retry";
import {
  HEAP_HEADROOM_BYTES,
  holdMemory,
  HttpApp,
  listenHttp,
  ResourceFaultError,
  startAdminServer,
  type ServiceKit,
} from "../../../services/lib";
import { burnBounds, burnWithin } from "../../support/cpu-burn";
import { baseUrl, makeKit, sample, shutdown } from "./kit-fixtures";

/**
 * Resource faults (memory, stall, cpu) of the Node kit: validation through the admin API, and each effect measured
 * in-process (heapUsed, monitorEventLoopDelay, process.cpuUsage), then on the real Node payments service started as
 * the mesh starts it (its /metrics and /healthz, its revert, its SIGTERM). MESHPROOF_PRINT_EFFECTS=1 prints the
 * measured figures (services/README.md quotes them).
 */

const MIB = 1024 * 1024;
const TOKEN = "x".repeat(32); // makeKit's admin token

function report(line: string): void {
  if (process.env.MESHPROOF_PRINT_EFFECTS) process.stderr.write(`[effect] ${line}\n`);
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The kit's admin API on a free port, with a small client. */
async function adminOf(kit: ServiceKit) {
  const admin = await startAdminServer({
    port: 0,
    token: TOKEN,
    faults: kit.faults,
    flush: async () => {},
    telemetry: () => ({}),
    finalMetrics: async () => "",
  });
  kit.onShutdown(() => admin.close());
  return client(`http://${LOOPBACK}:${admin.port}`);
}

function client(url: string) {
  const call = async (method: string, route: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    post: (body: unknown) => call("POST", "/admin/faults", body),
    list: async () => (await call("GET", "/admin/faults")).body.faults as Record<string, unknown>[],
    remove: (id: string) => call("DELETE", `/admin/faults/${id}`),
  };
}

/** CPU cores used by this process (all threads) over a window: process.cpuUsage delta / wall time. */
async function cpuRate(windowMs: number): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await sleep(windowMs);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (performance.now() - started);
}

describe("resource faults: admin validation", () => {
  test("memory, stall and cpu are strict; a 400 names the key; applied faults are listed, counted once, reverted by id", async () => {
    const kit = makeKit();
    try {
      const admin = await adminOf(kit);
      for (const [body, key] of [
        [{ kind: "memory" }, "mb"],
        [{ kind: "memory", mb: 0 }, "mb"],
        [{ kind: "memory", mb: 4097 }, "mb"],
        [{ kind: "memory", mb: 1.5 }, "mb"],
        [{ kind: "memory", mb: "64" }, "mb"],
        [{ kind: "memory", mb: 1, target: "*" }, '"target"'],
        [{ kind: "stall", everyMs: 1000 }, "blockMs"],
        [{ kind: "stall", blockMs: 0, everyMs: 1000 }, "blockMs"],
        [{ kind: "stall", blockMs: 5001, everyMs: 10_000 }, "blockMs"],
        [{ kind: "stall", blockMs: 100 }, "everyMs"],
        [{ kind: "stall", blockMs: 100, everyMs: 100 }, "everyMs: must be > blockMs"],
        [{ kind: "stall", blockMs: 100, everyMs: 1000, jitterMs: 5 }, '"jitterMs"'],
        [{ kind: "cpu" }, "fraction"],
        [{ kind: "cpu", fraction: 0.01 }, "fraction"],
        [{ kind: "cpu", fraction: 1.5 }, "fraction"],
        [{ kind: "cpu", fraction: 0.5, rate: 1 }, '"rate"'],
        [{ kind: "disk", mb: 1 }, "kind"],
      ] as const) {
        const answer = await admin.post(body);
        expect([body, answer.status, answer.body.error]).toEqual([body, 400, expect.stringContaining(key)]);
      }
      expect(kit.faults.size).toBe(0);

      // More memory than this process's V8 heap can take is refused before anything is allocated.
      const { heap_size_limit: limit, used_heap_size: used } = v8.getHeapStatistics();
      expect(() => holdMemory(Math.ceil(limit / MIB))).toThrow(ResourceFaultError);
      expect(() => holdMemory(Math.ceil(limit / MIB))).toThrow(/^mb: \d+ MB does not fit .*--max-old-space-size$/);
      if (4096 * MIB > limit - used - HEAP_HEADROOM_BYTES) {
        const answer = await admin.post({ kind: "memory", mb: 4096 });
        expect([answer.status, answer.body.error]).toEqual([400, expect.stringMatching(/^invalid fault: mb: 4096 MB/)]);
      }

      const memory = await admin.post({ kind: "memory", mb: 1 });
      const stall = await admin.post({ kind: "stall", blockMs: 1, everyMs: 1000 });
      const cpu = await admin.post({ kind: "cpu", fraction: 0.05 });
      expect([memory, stall, cpu]).toEqual([
        { status: 201, body: { kind: "memory", mb: 1, id: "f1" } },
        { status: 201, body: { kind: "stall", blockMs: 1, everyMs: 1000, id: "f2" } },
        { status: 201, body: { kind: "cpu", fraction: 0.05, id: "f3" } },
      ]);
      expect(await admin.list()).toEqual([memory.body, stall.body, cpu.body]);
      for (const kind of ["memory", "stall", "cpu"])
        expect([kind, await sample(kit, `meshproof_faults_injected_total{kind="${kind}",target="unit"}`)]).toEqual([
          kind,
          1,
        ]);
      // Resource faults make no per-request decisions and count nothing more when requests come.
      expect(kit.faults.decide(["GET /x"])).toEqual({ delayMs: 0 });
      expect((await admin.remove("f2")).status).toBe(200);
      expect((await admin.remove("f2")).status).toBe(404);
      expect(await admin.list()).toEqual([memory.body, cpu.body]);
      expect(kit.faults.clear()).toBe(2);
      expect(await sample(kit, `meshproof_faults_injected_total{kind="cpu",target="unit"}`)).toBe(1);
    } finally {
      await shutdown(kit);
    }
  });
});

describe("resource faults: effects in-process", () => {
  test("memory: heapUsed and the heap gauge rise by the held MB once the 201 is back; /healthz 503 names the heap check", async () => {
    const heapUsed = () => process.memoryUsage().heapUsed;
    const mb = 64;
    // The limit sits 32 MB over the live heap: measured over Jest's garbage instead, a GC during the 64 MB could
    // free more than 32 MB and leave the heap under it (CI saw /healthz 200). A full GC first makes heapUsed live.
    v8.setFlagsFromString("--expose-gc");
    (vm.runInNewContext("gc") as () => void)();
    const kit = makeKit([], "unit", { heapLimitBytes: heapUsed() + 32 * MIB });
    try {
      const admin = await adminOf(kit);
      expect((await kit.healthz()).httpStatus).toBe(200);
      const gaugeBefore = (await sample(kit, "nodejs_heap_size_used_bytes"))!;
      // Growing the heap by 64 MB can start a GC that frees older garbage (Jest's process has plenty): the rise of
      // heapUsed plus what GCs freed meanwhile is what the heap grew by.
      const profiler = new v8.GCProfiler();
      profiler.start();
      const before = process.memoryUsage();
      const started = performance.now();
      const answer = await admin.post({ kind: "memory", mb });
      const appliedMs = performance.now() - started;
      const after = process.memoryUsage();
      const gcs = profiler.stop()?.statistics ?? [];
      const gaugeAfter = (await sample(kit, "nodejs_heap_size_used_bytes"))!;
      const freed = gcs.reduce(
        (sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize,
        0,
      );
      const rose = after.heapUsed - before.heapUsed;
      report(
        `memory ${mb} MB in-process: 201 after ${appliedMs.toFixed(0)} ms, heapUsed +${(rose / MIB).toFixed(1)} MB ` +
          `(${gcs.length} GCs meanwhile freed ${(freed / MIB).toFixed(1)} MB), rss +${((after.rss - before.rss) / MIB).toFixed(1)} MB, ` +
          `nodejs_heap_size_used_bytes +${((gaugeAfter - gaugeBefore) / MIB).toFixed(1)} MB`,
      );
      expect(answer.status).toBe(201);
      expect(rose + freed).toBeGreaterThanOrEqual(mb * MIB);
      expect(gaugeAfter - gaugeBefore + freed).toBeGreaterThanOrEqual(mb * MIB);
      // RSS is net of what those GCs gave back; the service test below checks it without Jest's garbage.
      expect(after.rss - before.rss).toBeGreaterThanOrEqual(0.75 * mb * MIB);
      const live = await kit.healthz();
      expect(live.httpStatus).toBe(503);
      expect(live.body.checks.heap).toMatchObject({
        status: "fail",
        error: expect.stringMatching(/^heap used \d+ bytes > limit \d+ bytes$/),
      });
      expect(live.body.checks.eventLoop?.status).toBe("ok");
      expect((await admin.remove(String(answer.body.id))).status).toBe(200);
      // Falling back needs a full GC: --expose-gc gives the kit one (the mesh runs its services so; the
      // subprocess test below checks the fall). Jest's process may not have it.
    } finally {
      await shutdown(kit);
    }
  });

  test("stall 200/1000: the loop is blocked >= 200 ms per second, utilisation rises, /healthz stays 200; revert stops it", async () => {
    const kit = makeKit();
    const app = new HttpApp(kit).route("get", "/ping", [200], async (_req, res) => void res.json({ ok: true }));
    const url = baseUrl(await listenHttp(kit, app.finish(), 0));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    try {
      const admin = await adminOf(kit);
      await kit.healthz(); // resets its delay histogram
      await kit.metrics.registry.metrics(); // resets prom-client's lag max
      delay.enable();
      // A 5 ms ticker: the first gap >= 150 ms is the first block.
      let firstBlockAt: number | undefined;
      let lastTick = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        if (firstBlockAt === undefined && now - lastTick >= 150) firstBlockAt = lastTick;
        lastTick = now;
      }, 5);
      // In one process the client reads the 201 only after the first block: time it from the POST.
      const postedAt = performance.now();
      const answer = await admin.post({ kind: "stall", blockMs: 200, everyMs: 1000 });
      expect(answer.status).toBe(201);
      const latencies: number[] = [];
      const windowEnd = postedAt + 2_100;
      while (performance.now() < windowEnd) {
        const sent = performance.now();
        expect((await fetch(`${url}/ping`)).status).toBe(200);
        latencies.push(performance.now() - sent);
        await sleep(40);
      }
      clearInterval(ticker);
      delay.disable();
      const text = await kit.metrics.registry.metrics();
      const lagMax = Number(/^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text)?.[1]);
      const utilisation = Number(/^nodejs_eventloop_utilization_ratio (\S+)/m.exec(text)?.[1]);
      const fastServer = Number(
        /^http_server_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/ping",status_code="200"\} (\S+)/m.exec(
          text,
        )?.[1],
      );
      const served = Number(
        /^http_server_request_duration_seconds_count\{method="GET",route="\/ping",status_code="200"\} (\S+)/m.exec(
          text,
        )?.[1],
      );
      const live = await kit.healthz();
      report(
        `stall 200/1000 in-process: first block ${((firstBlockAt ?? NaN) - postedAt).toFixed(0)} ms after the POST, ` +
          `monitorEventLoopDelay max ${(delay.max / 1e6).toFixed(0)} ms p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, ` +
          `nodejs_eventloop_lag_max_seconds ${lagMax}, utilisation ${utilisation.toFixed(3)}, client latency max ` +
          `${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} requests, server histogram ${served - fastServer} ` +
          `of ${served} above 0.1 s, /healthz ${live.httpStatus} (eventLoop ${live.body.checks.eventLoop?.error ?? "ok"})`,
      );
      expect(firstBlockAt).toBeDefined();
      expect(firstBlockAt! - postedAt).toBeLessThan(50);
      expect(delay.max / 1e6).toBeGreaterThanOrEqual(195);
      expect(lagMax).toBeGreaterThanOrEqual(0.195);
      expect(utilisation).toBeGreaterThanOrEqual(0.18);
      // (Client latency is reported, not asserted: this client shares the blocked loop, so whether a request
      // straddles a block is chance. The stall scenario measures it from the driver's own process.)
      // The rule of /healthz (p99 of the delay > 500 ms) does not fail at 200 ms blocks.
      expect(live.httpStatus).toBe(200);

      expect((await admin.remove(String(answer.body.id))).status).toBe(200);
      delay.reset();
      delay.enable();
      await sleep(1_100);
      delay.disable();
      report(`stall reverted: monitorEventLoopDelay max ${(delay.max / 1e6).toFixed(0)} ms over the next 1.1 s`);
      expect(delay.max / 1e6).toBeLessThan(150);
    } finally {
      delay.disable();
      await shutdown(kit);
    }
  });

  test("stall 600/1000: a block longer than 500 ms fails /healthz, naming the event-loop check", async () => {
    const kit = makeKit();
    try {
      const admin = await adminOf(kit);
      await kit.healthz();
      // A probe resets its delay histogram, and a block that starts before the histogram's next 20 ms tick is not
      // recorded (monitorEventLoopDelay measures from the first tick after a reset; services/README.md).
      await sleep(50);
      const answer = await admin.post({ kind: "stall", blockMs: 600, everyMs: 1000 });
      // The first block runs right after the 201; the probe that follows sees it.
      await sleep(700);
      const live = await kit.healthz();
      report(`stall 600/1000 in-process: /healthz ${live.httpStatus}, eventLoop: ${live.body.checks.eventLoop?.error}`);
      expect(live.httpStatus).toBe(503);
      expect(live.body.checks.eventLoop).toMatchObject({
        status: "fail",
        error: expect.stringMatching(/^event-loop delay p99 \d+\.\d ms > 500 ms$/),
      });
      kit.faults.remove(String(answer.body.id));
      await kit.healthz();
      await sleep(300);
      expect((await kit.healthz()).httpStatus).toBe(200);
    } finally {
      await shutdown(kit);
    }
  });

  test("cpu 0.5: process CPU rises by half a core on a worker thread, the event loop stays free; revert stops it", async () => {
    const kit = makeKit();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    try {
      const admin = await adminOf(kit);
      const baseline = await cpuRate(500);
      const started = performance.now();
      const answer = await admin.post({ kind: "cpu", fraction: 0.5 });
      const onlineMs = performance.now() - started;
      expect(answer.status).toBe(201);
      // Up to three 1.5 s windows, the first within bounds counts: the machine is shared (2 cores, other work comes
      // in bursts) and a burner only gets the CPU the scheduler gives it (burnBounds).
      const bounds = burnBounds(0.5);
      const within = (w: { burning: number; counterRate: number }) =>
        burnWithin(w.burning - baseline, bounds) && burnWithin(w.counterRate - baseline, bounds);
      const windows: { burning: number; counterRate: number }[] = [];
      delay.enable();
      while (windows.length < 3 && !windows.some(within)) {
        const counterBefore = (await sample(kit, "process_cpu_seconds_total"))!;
        const counterAt = performance.now();
        const burning = await cpuRate(1_500);
        const counterRate =
          ((await sample(kit, "process_cpu_seconds_total"))! - counterBefore) /
          ((performance.now() - counterAt) / 1000);
        windows.push({ burning, counterRate });
      }
      delay.disable();
      expect((await admin.remove(String(answer.body.id))).status).toBe(200);
      const after = await cpuRate(500);
      const shown = windows
        .map((w) => `process.cpuUsage ${w.burning.toFixed(3)}, process_cpu_seconds_total ${w.counterRate.toFixed(3)}`)
        .join("; ");
      report(
        `cpu 0.5 in-process: 201 after ${onlineMs.toFixed(0)} ms (worker online), baseline ${baseline.toFixed(3)} cores, ` +
          `burning (cores per 1.5 s window) ${shown}, event-loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(0)} ms ` +
          `p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, after revert ${after.toFixed(3)} cores, ${bounds.load}`,
      );
      expect({ windows, bounds, within: windows.some(within) }).toEqual({ windows, bounds, within: true });
      // The event loop is not what burns: a burn on it would put its median delay near 50 ms (50 ms of every 100).
      expect(delay.percentile(50) / 1e6).toBeLessThan(30);
      expect(after).toBeLessThan(baseline + 0.1);
    } finally {
      delay.disable();
      await shutdown(kit);
    }
  });
});

/** The real Node payments service (dist/services/payments/main.js) with the mesh's V8 flags, no tracing preload. */
async function startNodePayments(env: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-resource-"));
  const [port, opsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const logFile = path.join(dir, "payments.jsonl");
  const proc = await ManagedProcess.spawn({
    name: "payments",
    command: process.execPath,
    // The flags harness/mesh/mesh.ts starts every Node service with.
    args: ["--max-semi-space-size=1", "--expose-gc", path.resolve(__dirname, "../../../services/payments/main.js")],
    logFile: path.join(dir, "payments.log"),
    env: {
      PATH: process.env.PATH,
      MESHPROOF_SERVICE_NAME: "payments",
      MESHPROOF_PORT: String(port),
      MESHPROOF_OPS_PORT: String(opsPort),
      MESHPROOF_ADMIN_PORT: String(adminPort),
      MESHPROOF_ADMIN_TOKEN: TOKEN,
      MESHPROOF_LOG_FILE: logFile,
      ...env,
    },
  });
  const opsUrl = `http://${LOOPBACK}:${opsPort}`;
  await retryUntil(
    async () => (await fetch(`${opsUrl}/readyz`)).status,
    (status) => status === 200,
    {
      timeoutMs: 10_000,
      description: `Node payments ${opsUrl}/readyz = 200`,
      failFast: () => (proc.running ? undefined : new Error(`payments ${proc.exitDescription}: ${proc.logTail()}`)),
    },
  );
  const metric = async (name: string) => {
    const text = await (await fetch(`${opsUrl}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1]);
  };
  const healthz = async () => {
    const response = await fetch(`${opsUrl}/healthz`);
    return { status: response.status, body: (await response.json()) as { checks: Record<string, { error?: string }> } };
  };
  return { proc, logFile, admin: client(`http://${LOOPBACK}:${adminPort}`), metric, healthz };
}

describe("resource faults on the Node payments service, started as the mesh starts it", () => {
  const running: ManagedProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop(5_000)));
  });

  test("memory 128 MB: the heap gauge is up at the next 1 s scrape, /healthz 503 over a 96 MB limit; revert brings both back", async () => {
    const mb = 128;
    const service = await startNodePayments({ MESHPROOF_HEAP_LIMIT_BYTES: String(96 * MIB) });
    running.push(service.proc);
    expect((await service.healthz()).status).toBe(200);
    const heapBefore = await service.metric("nodejs_heap_size_used_bytes");
    const rssBefore = await service.metric("process_resident_memory_bytes");
    const started = performance.now();
    const answer = await service.admin.post({ kind: "memory", mb });
    const appliedMs = performance.now() - started;
    expect(answer.status).toBe(201);
    // Prometheus scrapes every second: the first scrape after the 201 must show it.
    await sleep(1_000);
    const heapHeld = await service.metric("nodejs_heap_size_used_bytes");
    const rssHeld = await service.metric("process_resident_memory_bytes");
    const held = await service.healthz();
    const revertStarted = performance.now();
    expect((await service.admin.remove(String(answer.body.id))).status).toBe(200);
    const revertMs = performance.now() - revertStarted;
    const heapAfter = await service.metric("nodejs_heap_size_used_bytes");
    const rssAfter = await service.metric("process_resident_memory_bytes");
    const released = await service.healthz();
    report(
      `memory ${mb} MB on Node payments: 201 after ${appliedMs.toFixed(0)} ms, heap gauge ${(heapBefore / MIB).toFixed(1)} -> ` +
        `${(heapHeld / MIB).toFixed(1)} MB (+${((heapHeld - heapBefore) / MIB).toFixed(1)}), rss +${((rssHeld - rssBefore) / MIB).toFixed(1)} MB, ` +
        `/healthz ${held.status}; DELETE ${revertMs.toFixed(0)} ms, heap gauge ${(heapAfter / MIB).toFixed(1)} MB, rss ` +
        `${((rssAfter - rssBefore) / MIB).toFixed(1)} MB over the start, /healthz ${released.status}`,
    );
    // A GC meanwhile may free a few MB of unrelated garbage counted in the first reading: 4 MB of tolerance.
    expect(heapHeld - heapBefore).toBeGreaterThanOrEqual((mb - 4) * MIB);
    expect(rssHeld - rssBefore).toBeGreaterThanOrEqual((mb - 4) * MIB);
    expect(held.status).toBe(503);
    expect(held.body.checks.heap?.error).toMatch(/^heap used \d+ bytes > limit 100663296 bytes$/);
    // The revert's full GC: the gauge is back as soon as DELETE has answered.
    expect(heapAfter - heapBefore).toBeLessThan(16 * MIB);
    expect(released.status).toBe(200);
    expect(await service.metric('meshproof_faults_injected_total{kind="memory",target="payments"}')).toBe(1);
  });

  test("stall 600/1000 under 100 ms probes and 1 s scrapes: the probe after each block is 503, scrapes show the block", async () => {
    const service = await startNodePayments();
    running.push(service.proc);
    await service.metric("nodejs_eventloop_lag_max_seconds"); // a scrape: the window starts here
    await sleep(50); // a block starting within the lag histogram's first tick after a scrape is not recorded
    const answer = await service.admin.post({ kind: "stall", blockMs: 600, everyMs: 1000 });
    const end = performance.now() + 2_500;
    const probes: { status: number; error?: string }[] = [];
    const lagMax: number[] = [];
    await Promise.all([
      (async () => {
        while (performance.now() < end) {
          const { status, body } = await service.healthz();
          probes.push({ status, error: body.checks.eventLoop?.error });
          await sleep(100);
        }
      })(),
      (async () => {
        while (performance.now() < end) {
          await sleep(1_000);
          lagMax.push(await service.metric("nodejs_eventloop_lag_max_seconds"));
        }
      })(),
    ]);
    expect((await service.admin.remove(String(answer.body.id))).status).toBe(200);
    const failed = probes.filter((p) => p.status === 503);
    report(
      `stall 600/1000 on Node payments: /healthz 503 in ${failed.length} of ${probes.length} probes over 2.5 s ` +
        `(${failed[0]?.error}), lag max per 1 s scrape ${lagMax.map((l) => (l * 1000).toFixed(0)).join("/")} ms`,
    );
    // Three blocks start in 2.5 s; the probe waiting out each one reports it.
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]?.error).toMatch(/^event-loop delay p99 \d+\.\d ms > 500 ms$/);
    expect(lagMax.filter((l) => l >= 0.6).length).toBeGreaterThanOrEqual(1);
  });

  test("SIGTERM reverts the active resource faults first, then drains and exits 0", async () => {
    const service = await startNodePayments();
    running.push(service.proc);
    for (const spec of [
      { kind: "memory", mb: 16 },
      { kind: "cpu", fraction: 0.3 },
      { kind: "stall", blockMs: 300, everyMs: 1000 },
    ])
      expect((await service.admin.post(spec)).status).toBe(201);
    const signalledAt = performance.now();
    process.kill(service.proc.pid, "SIGTERM");
    await service.proc.waitForExit();
    const exitMs = performance.now() - signalledAt;
    report(`SIGTERM with memory, cpu and stall active: exit after ${exitMs.toFixed(0)} ms`);
    expect(service.proc.exitDescription).toBe("exited with code 0");
    expect(exitMs).toBeLessThan(4_500);
    const lines = fs
      .readFileSync(service.logFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "shutting down")).toMatchObject({
      reason: "SIGTERM",
      revertedResourceFaults: 3,
    });
  });
});
