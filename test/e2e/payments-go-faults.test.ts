import * as grpc from "@grpc/grpc-js";
import type { ProbeBody } from "../../assertions/evidence";
import { burnBounds, burnWithin } from "../support/cpu-burn";
import {
  adminStatus,
  grpcLabels,
  readLogLines,
  sample,
  SERVICE,
  serverSpan,
  setUpPaymentsGo,
  startPaymentsGo,
  stopStartedPaymentsGo,
  tearDownPaymentsGo,
  TOKEN,
  traceparent,
} from "../support/payments-go";
import { FaultRegistry, type AdminFault } from "../../services/lib/faults";

/** MESHPROOF_PRINT_EFFECTS=1 prints the measured effects of resource faults (services/payments-go/README.md). */
function report(line: string): void {
  if (process.env.MESHPROOF_PRINT_EFFECTS) process.stderr.write(`[effect] ${line}\n`);
}

beforeAll(setUpPaymentsGo, 60_000);
afterEach(stopStartedPaymentsGo);
afterAll(tearDownPaymentsGo);

describe("payments-go, the Go payments service, on the native stack", () => {
  test("probes are JSON of the Node shape; the admin API wants the bearer token and rejects bad faults naming the key", async () => {
    const payments = await startPaymentsGo();
    const healthz = await adminStatus(`${payments.opsUrl}/healthz`);
    expect(healthz.status).toBe(200);
    const live = healthz.body as ProbeBody;
    expect(live.status).toBe("ok");
    expect(Object.keys(live.checks).sort()).toEqual(["goroutines", "heap"]);
    for (const check of Object.values(live.checks)) {
      expect(check.status).toBe("ok");
      expect(typeof check.latencyMs).toBe("number");
    }
    const readyz = await adminStatus(`${payments.opsUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect((readyz.body as ProbeBody).status).toBe("ok");
    expect((readyz.body as ProbeBody).checks.grpc?.status).toBe("ok");

    for (const [route, init] of [
      ["/admin/faults", {}],
      ["/admin/faults", { headers: { authorization: "Bearer wrong-token-wrong-token" } }],
      ["/admin/flush", { method: "POST", headers: { authorization: TOKEN } }],
      ["/admin/nowhere", {}],
    ] as const) {
      const response = await fetch(`${payments.adminUrl}${route}`, init);
      expect([route, response.status]).toEqual([route, 401]);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="meshproof-admin"');
    }

    const post = (body: unknown) =>
      adminStatus(`${payments.adminUrl}/admin/faults`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const [body, key] of [
      [{ kind: "error", target: "Charge", rate: 1, delay: 5 }, '"delay"'],
      [{ kind: "error", target: "Charge", rate: 2 }, "rate"],
      [{ kind: "error", target: "Charge" }, "rate"],
      [{ kind: "error", target: "Charge", rate: 1, code: "OK" }, "code"],
      [{ kind: "latency", target: "Charge", ms: 1.5 }, "ms"],
      [{ kind: "latency", target: "", ms: 5 }, "target"],
      [{ kind: "boom", target: "Charge" }, "kind"],
    ] as const) {
      const answer = await post(body);
      expect([answer.status, (answer.body as { error: string }).error]).toEqual([400, expect.stringContaining(key)]);
    }
    const latency = await payments.admin.addFault({ kind: "latency", target: "*", ms: 1 });
    expect(latency).toEqual({ kind: "latency", target: "*", ms: 1, jitterMs: 0, rate: 1, id: "f1" });
    expect(await payments.admin.listFaults()).toEqual([latency]);
    const missing = await adminStatus(`${payments.adminUrl}/admin/faults/f9`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing).toEqual({ status: 404, body: { error: "no fault f9" } });
    expect(await payments.admin.clearFaults()).toBe(1);
  });

  test("an error fault at rate 1 makes Charge UNAVAILABLE; counter, fault counter and span agree", async () => {
    const payments = await startPaymentsGo();
    const fault = await payments.admin.addFault({ kind: "error", target: "Charge", rate: 1 });
    const sent = [traceparent(), traceparent(), traceparent()];
    const results = [];
    for (const tp of sent) results.push(await payments.charge({ traceparent: tp.header }));
    expect(results.map((r) => [r.code, r.details])).toEqual(
      sent.map(() => [grpc.status.UNAVAILABLE, `injected fault ${fault.id}`]),
    );
    const text = await payments.metrics();
    expect(sample(text, "grpc_server_handled_total", grpcLabels("UNAVAILABLE"))).toBe(3);
    expect(sample(text, "grpc_server_handled_total", grpcLabels("OK"))).toBe(0);
    expect(sample(text, "meshproof_faults_injected_total", { kind: "error", target: "Charge" })).toBe(3);
    await payments.admin.flush();
    for (const tp of sent) {
      const span = await serverSpan(tp.traceId);
      expect([span.status, span.attributes["rpc.response.status_code"]]).toEqual(["error", "UNAVAILABLE"]);
    }
    await payments.admin.removeFault(fault.id);
    expect((await payments.charge()).code).toBe(grpc.status.OK);
  });

  test("resource faults: memory is held on the Go heap and released, cpu burns its fraction of a core, stall is refused; SIGTERM reverts them first", async () => {
    const MIB = 1024 * 1024;
    const mb = 64;
    const payments = await startPaymentsGo({ MESHPROOF_HEAP_LIMIT_BYTES: String(48 * MIB) });
    const post = (body: unknown) =>
      adminStatus(`${payments.adminUrl}/admin/faults`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const [body, key] of [
      [{ kind: "stall", blockMs: 100, everyMs: 1000 }, "kind: stall is not supported by the go runtime"],
      [{ kind: "memory" }, "mb"],
      [{ kind: "memory", mb: 0 }, "mb"],
      [{ kind: "memory", mb: 4097 }, "mb"],
      [{ kind: "memory", mb: 1.5 }, "mb"],
      [{ kind: "memory", mb: 1, target: "*" }, '"target"'],
      [{ kind: "cpu", fraction: 0.01 }, "fraction"],
      [{ kind: "cpu", fraction: 2 }, "fraction"],
      [{ kind: "cpu", fraction: "0.5" }, "fraction"],
    ] as const) {
      const answer = await post(body);
      expect([body, answer.status, (answer.body as { error: string }).error]).toEqual([
        body,
        400,
        expect.stringContaining(key),
      ]);
    }
    const metric = async (name: string) => sample(await payments.metrics(false), name)!;
    const live = async () => {
      const answer = await adminStatus(`${payments.opsUrl}/healthz`);
      return { status: answer.status, heap: (answer.body as ProbeBody).checks.heap };
    };

    // memory: the Go heap gauge and RSS rise by mb once the 201 is back; /healthz 503 over the heap limit.
    expect((await live()).status).toBe(200);
    const heapBefore = await metric("go_memstats_heap_alloc_bytes");
    const rssBefore = await metric("process_resident_memory_bytes");
    let started = performance.now();
    const memory = await payments.admin.addFault({ kind: "memory", mb });
    const memoryMs = performance.now() - started;
    const heapHeld = await metric("go_memstats_heap_alloc_bytes");
    const rssHeld = await metric("process_resident_memory_bytes");
    const held = await live();
    started = performance.now();
    await payments.admin.removeFault(memory.id);
    const releaseMs = performance.now() - started;
    const heapAfter = await metric("go_memstats_heap_alloc_bytes");
    const rssAfter = await metric("process_resident_memory_bytes");
    const released = await live();
    report(
      `memory ${mb} MB on payments-go: 201 after ${memoryMs.toFixed(0)} ms, go_memstats_heap_alloc_bytes ` +
        `+${((heapHeld - heapBefore) / MIB).toFixed(1)} MB, rss +${((rssHeld - rssBefore) / MIB).toFixed(1)} MB, ` +
        `/healthz ${held.status}; DELETE ${releaseMs.toFixed(0)} ms, heap ${((heapAfter - heapBefore) / MIB).toFixed(1)} MB ` +
        `and rss ${((rssAfter - rssBefore) / MIB).toFixed(1)} MB over the start, /healthz ${released.status}`,
    );
    expect(memory).toEqual({ kind: "memory", mb, id: "f1" });
    expect(heapHeld - heapBefore).toBeGreaterThanOrEqual((mb - 1) * MIB);
    expect(rssHeld - rssBefore).toBeGreaterThanOrEqual((mb - 1) * MIB);
    expect(held).toEqual({
      status: 503,
      heap: expect.objectContaining({
        status: "fail",
        error: expect.stringMatching(/^heap used \d+ bytes > limit 50331648 bytes$/),
      }),
    });
    expect(heapAfter - heapBefore).toBeLessThan(4 * MIB);
    expect(rssAfter - rssBefore).toBeLessThan(16 * MIB);
    expect(released.status).toBe(200);

    // cpu: process_cpu_seconds_total's rate rises by the fraction, or what a thread can get on this shared machine
    // (burnBounds); up to three 2 s windows, the first within bounds counts; calls are served meanwhile.
    const rate = async (windowMs: number) => {
      const before = await metric("process_cpu_seconds_total");
      const at = performance.now();
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      return ((await metric("process_cpu_seconds_total")) - before) / ((performance.now() - at) / 1000);
    };
    const fraction = 0.5;
    const idle = await rate(1_000);
    started = performance.now();
    const cpu = await payments.admin.addFault({ kind: "cpu", fraction });
    const cpuMs = performance.now() - started;
    const windows: number[] = [];
    const bounds = burnBounds(fraction);
    while (windows.length < 3 && !windows.some((w) => burnWithin(w - idle, bounds))) windows.push(await rate(2_000));
    const callStarted = performance.now();
    expect((await payments.charge()).code).toBe(grpc.status.OK);
    const callMs = performance.now() - callStarted;
    expect(await payments.admin.listFaults()).toEqual([cpu]);
    await payments.admin.removeFault(cpu.id);
    const after = await rate(1_000);
    report(
      `cpu ${fraction} on payments-go: 201 after ${cpuMs.toFixed(0)} ms, process_cpu_seconds_total rate ${idle.toFixed(3)} -> ` +
        `${windows.map((w) => w.toFixed(3)).join(", ")} cores (2 s windows), a Charge meanwhile ${callMs.toFixed(1)} ms, ` +
        `after revert ${after.toFixed(3)} cores, ${bounds.load}`,
    );
    expect(cpu).toEqual({ kind: "cpu", fraction, id: "f2" });
    expect({ windows, bounds, within: windows.some((w) => burnWithin(w - idle, bounds)) }).toEqual({
      windows,
      bounds,
      within: true,
    });
    expect(after).toBeLessThan(idle + 0.1);
    const text = await payments.metrics();
    expect(sample(text, "meshproof_faults_injected_total", { kind: "memory", target: "payments" })).toBe(1);
    expect(sample(text, "meshproof_faults_injected_total", { kind: "cpu", target: "payments" })).toBe(1);

    // SIGTERM with both active: they are reverted first, then the usual drain, exit 0.
    await payments.admin.addFault({ kind: "memory", mb: 8 });
    await payments.admin.addFault({ kind: "cpu", fraction: 0.2 });
    process.kill(payments.proc.pid, "SIGTERM");
    await payments.proc.waitForExit();
    expect(payments.proc.exitDescription).toBe("exited with code 0");
    expect(readLogLines(payments.logFile).find((l) => l.msg === "shutting down")).toMatchObject({
      reason: "SIGTERM",
      revertedResourceFaults: 2,
    });
  });

  test("the same seed gives the same fault decisions as the Node FaultRegistry", async () => {
    const seed = 424242;
    const payments = await startPaymentsGo({ MESHPROOF_SEED: String(seed) });
    const specs: AdminFault[] = [
      { kind: "latency", target: "*", ms: 6, jitterMs: 5, rate: 0.5 },
      { kind: "error", target: `${SERVICE}/Charge`, rate: 0.25, code: "INTERNAL" },
      { kind: "error", target: "Charge", rate: 0.4 },
      { kind: "error", target: "Reserve", rate: 1 },
    ];
    const node = new FaultRegistry(seed);
    for (const spec of specs) {
      const expected = node.add(spec);
      expect(await payments.admin.addFault(spec)).toEqual(expected);
    }
    const calls = 40;
    const got: { code: string; delayMs: number }[] = [];
    for (let i = 0; i < calls; i++) {
      const result = await payments.charge({ requestId: `seeded-${i}` });
      got.push({ code: grpc.status[result.code], delayMs: 0 });
    }
    const lines = await payments.logs();
    for (let i = 0; i < calls; i++) {
      const line = lines.find((l) => l.request_id === `seeded-${i}`);
      got[i]!.delayMs = Number(line?.fault_delay_ms ?? 0);
    }
    const expected = Array.from({ length: calls }, () => {
      const decision = node.decide(["Charge", `${SERVICE}/Charge`]);
      return { code: decision.error ? (decision.error.code ?? "UNAVAILABLE") : "OK", delayMs: decision.delayMs };
    });
    expect(got).toEqual(expected);
    // Both generators actually did something in 40 calls: every outcome occurs.
    expect(new Set(got.map((g) => g.code))).toEqual(new Set(["OK", "INTERNAL", "UNAVAILABLE"]));
    expect(got.some((g) => g.delayMs > 0) && got.some((g) => g.delayMs === 0)).toBe(true);
  });
});
