import { spawnSync } from "node:child_process";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { retryUntil } from "../../harness/util/retry";
import {
  adminStatus,
  bin,
  logDir,
  readLogLines,
  sample,
  serverSpan,
  setUpPaymentsGo,
  startPaymentsGo,
  stopStartedPaymentsGo,
  tearDownPaymentsGo,
  TOKEN,
  traceparent,
} from "../support/payments-go";

beforeAll(setUpPaymentsGo, 60_000);
afterEach(stopStartedPaymentsGo);
afterAll(tearDownPaymentsGo);

describe("payments-go, the Go payments service, on the native stack", () => {
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
