import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { resolveTool } from "../../harness/tools/tools";
import { LOOPBACK } from "../../harness/util/ports";
import { GRPC_SERVICES, serviceConstructor } from "../../services/lib/grpc-kit";
import {
  adminStatus,
  DECLINED_CARD,
  grpcLabels,
  type PaymentsGo,
  sample,
  SERVICE,
  serverSpan,
  setUpPaymentsGo,
  startPaymentsGo,
  stopStartedPaymentsGo,
  tearDownPaymentsGo,
  TOKEN,
  traceparent,
  type UnaryMethod,
} from "../support/payments-go";

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

const HealthClient = serviceConstructor("health.proto", GRPC_SERVICES.health);

/** Sample names present on a /metrics page. */
function sampleNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(/[{ ]/)[0]!),
  );
}

beforeAll(setUpPaymentsGo, 60_000);
afterEach(stopStartedPaymentsGo);
afterAll(tearDownPaymentsGo);

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
});
