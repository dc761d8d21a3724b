import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { LogLine, ProbeBody } from "../../assertions/evidence";
import type { Span } from "../../assertions/trace-model";
import { NativeBackend, type StartedStack } from "../../harness/backends";
import { AdminClient } from "../../harness/mesh/admin-client";
import { resolveTool } from "../../harness/tools/tools";
import { ManagedProcess } from "../../harness/util/managed-process";
import { freePort, LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";
import { burnBounds, burnWithin } from "../support/cpu-burn";
import { FaultRegistry, type AdminFault } from "../../services/lib/faults";
import { GRPC_SERVICES, serviceConstructor } from "../../services/lib/grpc-kit";

/**
 * The Go payments service (services/payments-go, built by `npm run setup`) against the real native stack: the
 * same environment the harness gives the Node payments service, real gRPC calls and real HTTP, spans read back
 * from Jaeger. Every check is on what a drop-in replacement must do the same way as the Node service.
 */

const SERVICE = GRPC_SERVICES.payments;
const GOOD_CARD = "4111111111111111";
const DECLINED_CARD = "4000000000000002";
const CODES = [
  "OK",
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "FAILED_PRECONDITION",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "INTERNAL",
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RUNTIME_SERIES = [
  "go_gc_duration_seconds_count",
  "go_goroutines",
  "go_memstats_alloc_bytes",
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "process_start_time_seconds",
  // The recipe's own gauges (runtime.ReadMemStats every 10 s, debug.ReadGCStats every 30 s).
  "meshproof_runtime_heap_alloc_bytes",
  "meshproof_runtime_total_alloc_bytes",
  "meshproof_runtime_gc_cycles",
  "meshproof_runtime_gc_pause_average_seconds",
];

interface ChargeResult {
  code: grpc.status;
  paymentId?: string;
  details?: string;
}

interface ChargeOptions {
  card?: string;
  amountCents?: number;
  requestId?: string;
  traceparent?: string;
  deadlineMs?: number;
}

/** A unary method of a loaded client: request, metadata, options, callback. */
type UnaryMethod<Res> = (
  this: grpc.Client,
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => void;

interface PaymentsGo {
  proc: ManagedProcess;
  grpcAddress: string;
  opsUrl: string;
  admin: AdminClient;
  adminUrl: string;
  logFile: string;
  charge(options?: ChargeOptions): Promise<ChargeResult>;
  metrics(openMetrics?: boolean): Promise<string>;
  /** Flushes spans and log lines, then reads the log file. */
  logs(): Promise<LogLine[]>;
  stop(): Promise<void>;
}

const PaymentsClient = serviceConstructor("payments.proto", SERVICE);
const HealthClient = serviceConstructor("health.proto", GRPC_SERVICES.health);
const TOKEN = randomBytes(24).toString("hex");

let stack: StartedStack;
let bin: string;
let logDir: string;
const started: PaymentsGo[] = [];
let spawned = 0;

/** Spawns the Go binary with the environment the harness gives a gRPC mesh service, and waits for /readyz 200. */
async function startPaymentsGo(extraEnv: Record<string, string> = {}): Promise<PaymentsGo> {
  const [port, opsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const name = `payments-go-${spawned++}`;
  const logFile = path.join(logDir, `${name}.jsonl`);
  const proc = await ManagedProcess.spawn({
    name,
    command: bin,
    args: [],
    logFile: path.join(logDir, `${name}.log`),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MESHPROOF_SERVICE_NAME: "payments",
      MESHPROOF_INSTANCE_ID: `payments-${LOOPBACK}:${opsPort}`,
      MESHPROOF_PORT: String(port),
      MESHPROOF_OPS_PORT: String(opsPort),
      MESHPROOF_ADMIN_PORT: String(adminPort),
      MESHPROOF_ADMIN_TOKEN: TOKEN,
      MESHPROOF_LOG_FILE: logFile,
      MESHPROOF_OTLP_URL: stack.jaeger.otlpHttpUrl,
      MESHPROOF_SAMPLING_RATIO: "1",
      MESHPROOF_SEED: "1",
      MESHPROOF_DEFECTS: "",
      ...extraEnv,
    },
  });
  const grpcAddress = `${LOOPBACK}:${port}`;
  const opsUrl = `http://${LOOPBACK}:${opsPort}`;
  const adminUrl = `http://${LOOPBACK}:${adminPort}`;
  const client = new PaymentsClient(grpcAddress, grpc.credentials.createInsecure());
  const admin = new AdminClient(adminUrl, TOKEN);
  const service: PaymentsGo = {
    proc,
    grpcAddress,
    opsUrl,
    admin,
    adminUrl,
    logFile,
    charge: (options = {}) =>
      new Promise((resolve) => {
        const metadata = new grpc.Metadata();
        if (options.requestId !== undefined) metadata.set("x-request-id", options.requestId);
        if (options.traceparent) metadata.set("traceparent", options.traceparent);
        const request = {
          orderId: `order-${randomBytes(4).toString("hex")}`,
          amountCents: options.amountCents ?? 1999,
          card: options.card ?? GOOD_CARD,
        };
        const charge = (client as unknown as Record<string, UnaryMethod<{ paymentId: string }>>).Charge!;
        charge.call(
          client,
          request,
          metadata,
          { deadline: Date.now() + (options.deadlineMs ?? 5_000) },
          (error: grpc.ServiceError | null, response?: { paymentId: string }) =>
            resolve(
              error
                ? { code: error.code, details: error.details }
                : { code: grpc.status.OK, paymentId: response?.paymentId },
            ),
        );
      }),
    metrics: async (openMetrics = true) => {
      const response = await fetch(`${opsUrl}/metrics`, {
        headers: openMetrics ? { accept: "application/openmetrics-text; version=1.0.0" } : {},
      });
      expect(response.status).toBe(200);
      return response.text();
    },
    logs: async () => {
      await admin.flush();
      return readLogLines(logFile);
    },
    stop: async () => {
      client.close();
      await proc.stop(6_000);
    },
  };
  started.push(service);
  await retryUntil(
    async () => (await fetch(`${opsUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).status,
    (status) => status === 200,
    {
      timeoutMs: 15_000,
      description: `payments-go GET ${opsUrl}/readyz = 200`,
      maxDelayMs: 100,
      failFast: () => (proc.running ? undefined : new Error(`payments-go ${proc.exitDescription}: ${proc.logTail()}`)),
      onTimeout: () => `last log lines: ${proc.logTail()}`,
    },
  );
  return service;
}

/** MESHPROOF_PRINT_EFFECTS=1 prints the measured effects of resource faults (services/payments-go/README.md). */
function report(line: string): void {
  if (process.env.MESHPROOF_PRINT_EFFECTS) process.stderr.write(`[effect] ${line}\n`);
}

function readLogLines(file: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

function traceparent(): { traceId: string; parentSpanId: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  return { traceId, parentSpanId, header: `00-${traceId}-${parentSpanId}-01` };
}

/** The value of one sample (name and exact labels) on a /metrics page, undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const keys = Object.keys(labels);
    if (keys.length === Object.keys(got).length && keys.every((k) => got[k] === labels[k])) return Number(match[3]);
  }
  return undefined;
}

function grpcLabels(code: string): Record<string, string> {
  return { grpc_service: SERVICE, grpc_method: "Charge", grpc_code: code };
}

/** Sample names present on a /metrics page. */
function sampleNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(/[{ ]/)[0]!),
  );
}

/** The payments server span of a trace, once Jaeger has it. */
async function serverSpan(traceId: string): Promise<Span> {
  const trace = await retryUntil(
    () => stack.traces.getTrace(traceId),
    (t) => t !== undefined && t.spans.some((s) => s.service === "payments" && s.kind === "server"),
    { timeoutMs: 20_000, description: `payments server span of trace ${traceId} in Jaeger` },
  );
  return trace!.spans.find((s) => s.service === "payments" && s.kind === "server")!;
}

async function adminStatus(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

beforeAll(async () => {
  // Missing binary: ToolMissingError says to run "npm run setup" (the test fails with it, it does not skip).
  bin = (await resolveTool("payments-go")).path;
  stack = await new NativeBackend().start();
  logDir = path.join(stack.runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await stack?.stop();
});

describe("payments-go, the Go payments service, on the native stack", () => {
  test("Charge answers OK, INVALID_ARGUMENT and FAILED_PRECONDITION; RED metrics count every code with a trace_id exemplar", async () => {
    const payments = await startPaymentsGo();
    const before = await payments.metrics();
    for (const code of CODES) {
      // Pre-initialised at 0 before any call, counter and histogram.
      expect([code, sample(before, "grpc_server_handled_total", grpcLabels(code))]).toEqual([code, 0]);
      expect(sample(before, "grpc_server_handling_seconds_count", grpcLabels(code))).toBe(0);
    }

    const ok = [];
    for (let i = 0; i < 3; i++) ok.push(await payments.charge({ traceparent: traceparent().header }));
    const sentTraceIds = new Set<string>();
    const tp = traceparent();
    sentTraceIds.add(tp.traceId);
    ok.push(await payments.charge({ traceparent: tp.header }));
    expect(ok.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(ok.every((r) => UUID.test(r.paymentId ?? ""))).toBe(true);
    const invalid = [
      await payments.charge({ card: "123" }),
      await payments.charge({ card: "4111-1111-1111-1111" }),
      await payments.charge({ amountCents: 0 }),
    ];
    expect(invalid.map((r) => [r.code, r.details])).toEqual([
      [grpc.status.INVALID_ARGUMENT, "card must be 12-19 digits"],
      [grpc.status.INVALID_ARGUMENT, "card must be 12-19 digits"],
      [grpc.status.INVALID_ARGUMENT, "amount must be > 0"],
    ]);
    const declined = await payments.charge({ card: DECLINED_CARD });
    expect([declined.code, declined.details]).toEqual([grpc.status.FAILED_PRECONDITION, "card declined"]);

    // Health checks are probe traffic: not measured.
    const health = new HealthClient(payments.grpcAddress, grpc.credentials.createInsecure());
    const check = (health as unknown as Record<string, UnaryMethod<{ status: string }>>).Check!;
    const status = await new Promise<string | undefined>((resolve, reject) =>
      check.call(health, { service: "" }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error, response) =>
        error ? reject(error) : resolve(response?.status),
      ),
    );
    health.close();
    expect(status).toBe("SERVING");

    const text = await payments.metrics();
    expect(sample(text, "grpc_server_handled_total", grpcLabels("OK"))).toBe(4);
    expect(sample(text, "grpc_server_handled_total", grpcLabels("INVALID_ARGUMENT"))).toBe(3);
    expect(sample(text, "grpc_server_handled_total", grpcLabels("FAILED_PRECONDITION"))).toBe(1);
    for (const code of ["NOT_FOUND", "UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL"])
      expect([code, sample(text, "grpc_server_handled_total", grpcLabels(code))]).toEqual([code, 0]);
    expect(sample(text, "grpc_server_handling_seconds_count", grpcLabels("OK"))).toBe(4);
    expect(sample(text, "grpc_server_handling_seconds_count", grpcLabels("INVALID_ARGUMENT"))).toBe(3);
    expect(text).not.toContain("grpc.health.v1");
    // OpenMetrics exemplars: the trace id of a sampled server span on the bucket it fell in.
    const exemplars = [
      ...text.matchAll(/^grpc_server_handling_seconds_bucket\{([^}]*)\} \S+ # \{trace_id="([0-9a-f]{32})"\}/gm),
    ];
    expect(exemplars.length).toBeGreaterThan(0);
    expect(exemplars.every((m) => m[1]!.includes('grpc_method="Charge"'))).toBe(true);
    expect(exemplars.some((m) => sentTraceIds.has(m[2]!))).toBe(true);

    const names = sampleNames(text);
    expect(RUNTIME_SERIES.filter((name) => !names.has(name))).toEqual([]);
    expect(sample(text, "meshproof_runtime_heap_alloc_bytes")).toBeGreaterThan(0);
    expect(sample(text, "meshproof_runtime_total_alloc_bytes")).toBeGreaterThan(0);

    // The Prometheus text format (no Accept header) passes promtool's lint with no problem at all.
    const promtool = path.join(path.dirname((await resolveTool("prometheus")).path), "promtool");
    expect(fs.existsSync(promtool) ? promtool : `${promtool} missing: run "npm run setup"`).toBe(promtool);
    const lint = spawnSync(promtool, ["check", "metrics"], { input: await payments.metrics(false), encoding: "utf8" });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: "" });
  });

  test("a call's server span is in Jaeger with the request id and status code; log lines carry trace, span and request ids", async () => {
    const payments = await startPaymentsGo();
    const good = traceparent();
    const bad = traceparent();
    expect((await payments.charge({ traceparent: good.header, requestId: "go-e2e-ok.1" })).code).toBe(grpc.status.OK);
    expect(
      (await payments.charge({ traceparent: bad.header, requestId: "go-e2e-declined:2", card: DECLINED_CARD })).code,
    ).toBe(grpc.status.FAILED_PRECONDITION);
    const generated = await payments.charge({ traceparent: traceparent().header });
    const replaced = await payments.charge({ traceparent: traceparent().header, requestId: "not a valid id!" });
    expect([generated.code, replaced.code]).toEqual([0, 0]);
    const lines = await payments.logs();

    const span = await serverSpan(good.traceId);
    expect(span.parentSpanId).toBe(good.parentSpanId);
    expect(span.name).toBe(`${SERVICE}/Charge`);
    expect(span.status).toBe("unset");
    // What otelgrpc v0.72.0 (default semconv mode) puts on a server span, plus the kit's request id.
    expect(span.attributes).toMatchObject({
      "rpc.system.name": "grpc",
      "rpc.method": `${SERVICE}/Charge`,
      "rpc.response.status_code": "OK",
      "server.address": LOOPBACK,
      "meshproof.request_id": "go-e2e-ok.1",
    });
    const failed = await serverSpan(bad.traceId);
    expect(failed.status).toBe("error");
    expect(failed.attributes).toMatchObject({
      "rpc.response.status_code": "FAILED_PRECONDITION",
      "meshproof.request_id": "go-e2e-declined:2",
    });

    const calls = lines.filter((l) => l.msg === "call completed" || l.msg === "call failed");
    expect(calls).toHaveLength(4);
    const okLine = calls.find((l) => l.request_id === "go-e2e-ok.1")!;
    expect(okLine).toMatchObject({
      level: "info",
      service: "payments",
      msg: "call completed",
      trace_id: good.traceId,
      span_id: span.spanId,
      grpc_method: "Charge",
      grpc_code: "OK",
    });
    expect(typeof okLine.durationMs).toBe("number");
    expect(String(okLine.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(calls.find((l) => l.request_id === "go-e2e-declined:2")).toMatchObject({
      level: "warn",
      msg: "call failed",
      trace_id: bad.traceId,
      span_id: failed.spanId,
      grpc_code: "FAILED_PRECONDITION",
    });
    // Absent or invalid x-request-id: a new UUID, on the span and the log line alike.
    const others = calls.filter((l) => !String(l.request_id).startsWith("go-e2e-"));
    expect(others).toHaveLength(2);
    for (const line of others) {
      expect(String(line.request_id)).toMatch(UUID);
      expect((await serverSpan(String(line.trace_id))).attributes["meshproof.request_id"]).toBe(line.request_id);
    }

    // Span accounting: every started span ended and was exported after the flush.
    const telemetry = (await adminStatus(`${payments.adminUrl}/admin/telemetry`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })) as { status: number; body: { spans: Record<string, number> } };
    expect(telemetry.status).toBe(200);
    expect(telemetry.body.spans).toEqual({ started: 4, ended: 4, exported: 4, exportFailures: 0 });
  });

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

  test("each defect changes exactly what it says", async () => {
    const plain = await startPaymentsGo();
    const label200 = await startPaymentsGo({ MESHPROOF_DEFECTS: "status-label-200" });
    const defaultRegistry = await startPaymentsGo({ MESHPROOF_DEFECTS: "default-registry" });
    const noRuntime = await startPaymentsGo({ MESHPROOF_DEFECTS: "no-runtime-metrics" });
    for (const service of [plain, label200, defaultRegistry, noRuntime]) {
      // Responses are the same whatever the defect.
      expect((await service.charge({ card: DECLINED_CARD })).code).toBe(grpc.status.FAILED_PRECONDITION);
      expect((await service.charge({ card: "1" })).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((await service.charge()).code).toBe(grpc.status.OK);
    }
    const [plainText, label200Text, defaultText, noRuntimeText] = await Promise.all([
      plain.metrics(),
      label200.metrics(),
      defaultRegistry.metrics(),
      noRuntime.metrics(),
    ]);
    const counts = (text: string) =>
      Object.fromEntries(CODES.map((c) => [c, sample(text, "grpc_server_handled_total", grpcLabels(c))]));
    expect(counts(plainText)).toMatchObject({ OK: 1, FAILED_PRECONDITION: 1, INVALID_ARGUMENT: 1 });
    // status-label-200: every error counted as OK.
    expect(counts(label200Text)).toMatchObject({ OK: 3, FAILED_PRECONDITION: 0, INVALID_ARGUMENT: 0 });
    // default-registry: the RED families are registered where /metrics does not look; runtime series stay.
    const defaultNames = sampleNames(defaultText);
    expect([...defaultNames].filter((n) => n.startsWith("grpc_server_") || n.startsWith("meshproof_faults"))).toEqual(
      [],
    );
    expect(RUNTIME_SERIES.filter((n) => !defaultNames.has(n))).toEqual([]);
    // no-runtime-metrics: no Go, process or recipe runtime series; RED series stay.
    const noRuntimeNames = sampleNames(noRuntimeText);
    expect([...noRuntimeNames].filter((n) => /^(go_|process_|meshproof_runtime_)/.test(n))).toEqual([]);
    expect(counts(noRuntimeText)).toMatchObject({ OK: 1, FAILED_PRECONDITION: 1, INVALID_ARGUMENT: 1 });
    expect(RUNTIME_SERIES.filter((n) => !sampleNames(plainText).has(n))).toEqual([]);
  });

  test("sampling is ParentBased(TraceIDRatioBased); standard OTEL_* variables win over the service's defaults", async () => {
    const spans = async (service: PaymentsGo) =>
      (
        (await adminStatus(`${service.adminUrl}/admin/telemetry`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })) as { body: { spans: { started: number } } }
      ).body.spans.started;
    const ratioZero = await startPaymentsGo({ MESHPROOF_SAMPLING_RATIO: "0" });
    const alwaysOff = await startPaymentsGo({ OTEL_TRACES_SAMPLER: "always_off" });
    const b3Only = await startPaymentsGo({ OTEL_PROPAGATORS: "b3" });

    // Ratio 0: a root is not sampled (no span, no exemplar, no trace id on the log line), a sampled parent is.
    expect((await ratioZero.charge({ requestId: "root-call" })).code).toBe(grpc.status.OK);
    expect(await spans(ratioZero)).toBe(0);
    expect(await ratioZero.metrics()).not.toContain("trace_id");
    const parent = traceparent();
    expect((await ratioZero.charge({ requestId: "child-call", traceparent: parent.header })).code).toBe(0);
    expect(await spans(ratioZero)).toBe(1);
    const ratioLines = await ratioZero.logs();
    expect(ratioLines.find((l) => l.request_id === "root-call")?.trace_id).toBeUndefined();
    expect(ratioLines.find((l) => l.request_id === "child-call")?.trace_id).toBe(parent.traceId);

    // OTEL_TRACES_SAMPLER=always_off beats MESHPROOF_SAMPLING_RATIO=1, even under a sampled parent.
    expect((await alwaysOff.charge({ traceparent: traceparent().header })).code).toBe(0);
    expect(await spans(alwaysOff)).toBe(0);

    // OTEL_PROPAGATORS=b3: a W3C traceparent is not read, the call starts a trace of its own.
    const ignored = traceparent();
    expect((await b3Only.charge({ requestId: "b3-call", traceparent: ignored.header })).code).toBe(0);
    const b3Line = (await b3Only.logs()).find((l) => l.request_id === "b3-call");
    expect(b3Line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(b3Line?.trace_id).not.toBe(ignored.traceId);
  });

  test("bad configuration exits 2 with one line naming the variable", () => {
    const base = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      MESHPROOF_SERVICE_NAME: "payments",
      MESHPROOF_PORT: "1",
      MESHPROOF_OPS_PORT: "2",
      MESHPROOF_ADMIN_PORT: "3",
      MESHPROOF_ADMIN_TOKEN: TOKEN,
      MESHPROOF_LOG_FILE: path.join(logDir, "never.jsonl"),
      MESHPROOF_OTLP_URL: "http://127.0.0.1:4318",
    };
    for (const [change, variable] of [
      [{ MESHPROOF_DEFECTS: "drop-context,bogus" }, "MESHPROOF_DEFECTS"],
      [{ MESHPROOF_PORT: "" }, "MESHPROOF_PORT"],
      [{ MESHPROOF_ADMIN_TOKEN: "short" }, "MESHPROOF_ADMIN_TOKEN"],
      [{ MESHPROOF_OTLP_URL: "http://10.0.0.1:4318" }, "MESHPROOF_OTLP_URL"],
      [{ MESHPROOF_SAMPLING_RATIO: "2" }, "MESHPROOF_SAMPLING_RATIO"],
    ] as const) {
      const result = spawnSync(bin, [], { env: { ...base, ...change }, encoding: "utf8", timeout: 10_000 });
      expect([variable, result.status, result.stderr.trim().split("\n").length]).toEqual([variable, 2, 1]);
      expect(result.stderr).toContain(variable);
    }
    const unknown = spawnSync(bin, [], { env: { ...base, MESHPROOF_DEFECTS: "bogus" }, encoding: "utf8" });
    expect(unknown.stderr).toContain(
      "valid: drop-context, status-label-200, readyz-ignores-redis, no-runtime-metrics, default-registry",
    );
  });

  test("SIGTERM drains: /readyz 503 first, the in-flight call finishes, spans flush, exit 0", async () => {
    const payments = await startPaymentsGo();
    await payments.admin.addFault({ kind: "latency", target: "Charge", ms: 1_500 });
    const tp = traceparent();
    const inFlight = payments.charge({ traceparent: tp.header, requestId: "draining-call" });
    // The call has reached the handler once its latency fault is counted.
    await retryUntil(
      async () =>
        sample(await payments.metrics(), "meshproof_faults_injected_total", { kind: "latency", target: "Charge" }),
      (n) => n === 1,
      { timeoutMs: 5_000, description: "the latency fault of the in-flight call counted" },
    );
    const signalledAt = Date.now();
    process.kill(payments.proc.pid, "SIGTERM");
    const draining = await retryUntil(
      () => adminStatus(`${payments.opsUrl}/readyz`),
      (r) => r.status === 503,
      { timeoutMs: 1_000, description: "payments-go /readyz 503 after SIGTERM", maxDelayMs: 20 },
    );
    expect(draining.body).toEqual({
      status: "fail",
      checks: { draining: { status: "fail", latencyMs: 0, error: "shutting down" } },
    });
    expect(await inFlight).toMatchObject({ code: grpc.status.OK });
    await retryUntil(
      async () => payments.proc.running,
      (running) => !running,
      { timeoutMs: 4_500, description: "payments-go to exit after SIGTERM", maxDelayMs: 20 },
    );
    expect(payments.proc.exitDescription).toBe("exited with code 0");
    expect(Date.now() - signalledAt).toBeLessThan(4_500);
    // Spans were flushed at shutdown (no /admin/flush), log lines too.
    expect((await serverSpan(tp.traceId)).attributes["meshproof.request_id"]).toBe("draining-call");
    const messages = readLogLines(payments.logFile).map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(["shutting down", "call completed", "stopped"]));
    expect(messages.indexOf("shutting down")).toBeLessThan(messages.indexOf("call completed"));
  });
});
