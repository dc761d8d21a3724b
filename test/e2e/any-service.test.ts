import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BUILTIN_CONTRACTS } from "../../assertions/contract";
import type { ProbeBody } from "../../assertions/evidence";
import type { Trace } from "../../assertions/trace-model";
import { NativeBackend } from "../../harness/backends";
import { startMesh } from "../../harness/mesh";
import type { Verdict } from "../../harness/report/verdict";
import { retryUntil } from "../../harness/util/retry";
import { pidAlive, runCli, spawnCli } from "../support/cli";

const CHECKOUT = { items: [{ sku: "sku-1", qty: 1 }], card: "4111111111111111" };

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-${prefix}-`));
}

async function checkout(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/checkout`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(CHECKOUT),
  });
}

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the Go payments service in the mesh (--impl payments=go)", () => {
  test("a checkout crosses TS and Go spans in one trace; Go RED series, runtime gauges and probes", async () => {
    await using stack = await new NativeBackend().start();
    await using mesh = await startMesh(stack, { impl: { payments: "go" } });
    expect(mesh.services.payments.impl).toBe("go");
    expect(mesh.services.payments.contract).toBe(BUILTIN_CONTRACTS.go);

    const traceId = randomBytes(16).toString("hex");
    const response = await checkout(mesh.edgeUrl, {
      traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
      "x-request-id": "go-e2e-1",
    });
    expect(response.status).toBe(201);
    await mesh.flush();
    const trace = (await retryUntil(
      () => stack.traces.getTrace(traceId),
      (t) => t !== undefined && t.spans.length >= 8,
      { timeoutMs: 20_000, description: `trace ${traceId} with 8 spans` },
    )) as Trace;
    const goServer = trace.spans.find((s) => s.service === "payments" && s.kind === "server")!;
    const ordersClient = trace.spans.find(
      (s) => s.service === "orders" && s.kind === "client" && s.name.endsWith("/Charge"),
    )!;
    // The Go server span continues the Node client span across the wire, in the Go contract's attribute keys.
    expect(goServer.parentSpanId).toBe(ordersClient.spanId);
    const go = BUILTIN_CONTRACTS.go.spans;
    expect(goServer.attributes).toMatchObject({
      [go.rpcSystem]: "grpc",
      [go.rpcMethod]: "meshproof.payments.v1.Payments/Charge",
      [go.grpcStatusCode]: "OK",
      [go.requestId]: "go-e2e-1",
    });

    const text = await (await fetch(mesh.services.payments.metricsUrl)).text();
    expect(
      sampleValue(
        text,
        'grpc_server_handled_total{grpc_code="OK",grpc_method="Charge",grpc_service="meshproof.payments.v1.Payments"}',
      ),
    ).toBe(1);
    const runtime = BUILTIN_CONTRACTS.go.runtimeMetrics;
    for (const name of [
      runtime.goroutines!,
      runtime.heapUsedBytes,
      runtime.residentMemoryBytes,
      runtime.cpuSecondsTotal,
    ])
      expect({ name, value: sampleValue(text, name) }).toEqual({ name, value: expect.any(Number) });
    expect(sampleValue(text, `${runtime.gcDuration.name}_count`)).toBeGreaterThanOrEqual(0);
    for (const url of [mesh.services.payments.healthzUrl, mesh.services.payments.readyzUrl]) {
      const probe = await fetch(url);
      expect(probe.status).toBe(200);
      expect((await probe.json()) as ProbeBody).toMatchObject({ status: "ok", checks: expect.any(Object) });
    }
  }, 120_000);
});

describe("the standard OpenTelemetry environment reaches one service", () => {
  test("OTEL_BSP_* for payments only: its SDK takes them and exports by them; OTEL_PROPAGATORS=b3 for the gateway: it continues a B3 trace", async () => {
    await using stack = await new NativeBackend().start();
    await using mesh = await startMesh(stack, {
      serviceEnv: {
        payments: { OTEL_BSP_MAX_QUEUE_SIZE: "4", OTEL_BSP_SCHEDULE_DELAY: "60000" },
        gateway: { OTEL_PROPAGATORS: "b3" },
      },
    });
    const payments = await mesh.services.payments.admin.telemetry();
    const orders = await mesh.services.orders.admin.telemetry();
    expect(payments.config).toMatchObject({ maxQueueSize: 4, scheduledDelayMillis: 60_000 });
    expect(orders.config).toMatchObject({ maxQueueSize: 32_768, scheduledDelayMillis: 1_000 });

    // The SDK works with them: with a 60 s delay, payments exports only when 4 spans wait (a full batch), so after
    // 6 checkouts 4 are out and 2 wait for the flush; orders (1 s delay, large batches) has exported nothing yet.
    for (let i = 0; i < 6; i++) expect((await checkout(mesh.edgeUrl)).status).toBe(201);
    const before = await retryUntil(
      () => mesh.services.payments.admin.telemetry(),
      (t) => t.spans.exported >= 4,
      { timeoutMs: 5_000, description: "payments exporting its first full batch" },
    );
    expect(before.spans).toMatchObject({ ended: 6, exported: 4 });
    await mesh.flush();
    expect((await mesh.services.payments.admin.telemetry()).spans).toMatchObject({ ended: 6, exported: 6 });

    // B3 single header: the gateway (OTEL_PROPAGATORS=b3) continues that trace; it no longer reads traceparent.
    const b3Trace = randomBytes(16).toString("hex");
    const b3 = await checkout(mesh.edgeUrl, { b3: `${b3Trace}-${randomBytes(8).toString("hex")}-1` });
    expect(b3.status).toBe(201);
    const w3cTrace = randomBytes(16).toString("hex");
    await checkout(mesh.edgeUrl, { traceparent: `00-${w3cTrace}-${randomBytes(8).toString("hex")}-01` });
    await mesh.flush();
    const continued = (await retryUntil(
      () => stack.traces.getTrace(b3Trace),
      (t) => t !== undefined && t.spans.some((s) => s.service === "gateway"),
      { timeoutMs: 20_000, description: `the gateway's span in B3 trace ${b3Trace}` },
    )) as Trace;
    expect(continued.spans.find((s) => s.service === "gateway" && s.kind === "server")).toBeDefined();
    expect(await stack.traces.getTrace(w3cTrace)).toBeUndefined();
  }, 120_000);
});

describe("an external mesh judged through --config", () => {
  test("a mesh started by its own command: baseline and a network fault pass, a fault it does not offer is not applicable", async () => {
    const dir = tempDir("external");
    const configFile = path.join(dir, "meshproof.config.json");
    const owner = spawnCli("harness/cli/stack.js", ["--backend", "native", "--mesh", configFile]);
    let ownerOutput = "";
    owner.stderr.on("data", (chunk) => (ownerOutput += chunk));
    try {
      await retryUntil(async () => fs.existsSync(configFile), Boolean, {
        timeoutMs: 60_000,
        description: `npm run mesh writing ${configFile}`,
        onTimeout: () => ownerOutput,
      });
      const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as {
        services: Record<string, { admin?: unknown; pid?: unknown }>;
      };
      expect(Object.values(config.services).every((s) => s.admin === undefined && s.pid === undefined)).toBe(true);

      const reportDir = tempDir("external-report");
      const result = await runCli("harness/cli/scenario.js", [
        "--config",
        configFile,
        "baseline",
        "redis-outage",
        "payments-errors",
        "--report-dir",
        reportDir,
      ]);
      const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
      expect({ code: result.code, statuses: verdict.scenarios.map((s) => [s.name, s.status]) }).toEqual({
        code: 0,
        statuses: [
          ["baseline", "passed"],
          ["payments-errors", "not-applicable"],
          ["redis-outage", "passed"],
        ],
      });
      expect(verdict.run.backend).toBe("external");
      expect(verdict.scenarios[1]!.abortReason).toContain("payments has no admin API");
      // The harness started no process of its own: the mesh's owner still runs it.
      expect(pidAlive(owner.pid!)).toBe(true);
    } finally {
      owner.kill("SIGTERM");
      await new Promise((resolve) => owner.once("close", resolve));
    }
  }, 180_000);
});

describe("the contract is data", () => {
  test("--contract naming a series the service never exposes fails hygiene.contract-series, naming service and series", async () => {
    const dir = tempDir("contract");
    const contract = structuredClone(BUILTIN_CONTRACTS.node);
    contract.name = "expects-more";
    contract.runtimeMetrics.heapTotalBytes = "nodejs_heap_reserved_bytes";
    fs.writeFileSync(path.join(dir, "contract.json"), JSON.stringify(contract));
    const reportDir = tempDir("contract-report");
    const result = await runCli("harness/cli/scenario.js", [
      "baseline",
      "--contract",
      `payments=${path.join(dir, "contract.json")}`,
      "--report-dir",
      reportDir,
    ]);
    expect(result.code).toBe(1);
    const [scenario] = (JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict).scenarios;
    const failed = scenario!.assertions.filter((a) => a.status === "failed");
    expect(failed.map((a) => a.id)).toContain("hygiene.contract-series");
    expect(failed.find((a) => a.id === "hygiene.contract-series")!.message).toContain("payments (127.0.0.1:");
    expect(failed.find((a) => a.id === "hygiene.contract-series")!.message).toContain(
      'never exposed nodejs_heap_reserved_bytes, which its contract "expects-more" names',
    );
  }, 120_000);

  test("a bad contract file exits 2 naming the file and the key", async () => {
    const dir = tempDir("bad-contract");
    const file = path.join(dir, "bad.json");
    fs.writeFileSync(file, JSON.stringify({ ...BUILTIN_CONTRACTS.node, spanz: {} }));
    const result = await runCli("harness/cli/scenario.js", ["baseline", "--contract", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: spanz is not a known key`);
  });
});
