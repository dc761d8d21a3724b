import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { LogLine } from "../../assertions/evidence";
import type { Span } from "../../assertions/trace-model";
import { NativeBackend, type StartedStack } from "../../harness/backends";
import { AdminClient } from "../../harness/mesh/admin-client";
import { resolveTool } from "../../harness/tools/tools";
import { ManagedProcess } from "../../harness/util/managed-process";
import { freePort, LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";
import { GRPC_SERVICES, serviceConstructor } from "../../services/lib/grpc-kit";

/**
 * The Go payments service (services/payments-go, built by `npm run setup`) against the real native stack: the
 * same environment the harness gives the Node payments service, real gRPC calls and real HTTP, spans read back
 * from Jaeger. Every check is on what a drop-in replacement must do the same way as the Node service.
 */
// Each test/e2e/payments-go-*.test.ts file calls the set-up and tear-down below from its own hooks: a stack per file.

export const SERVICE = GRPC_SERVICES.payments;
const GOOD_CARD = "4111111111111111";
export const DECLINED_CARD = "4000000000000002";

export interface ChargeResult {
  code: grpc.status;
  paymentId?: string;
  details?: string;
}

export interface ChargeOptions {
  card?: string;
  amountCents?: number;
  requestId?: string;
  traceparent?: string;
  deadlineMs?: number;
}

/** A unary method of a loaded client: request, metadata, options, callback. */
export type UnaryMethod<Res> = (
  this: grpc.Client,
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => void;

export interface PaymentsGo {
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
export const TOKEN = randomBytes(24).toString("hex");

let stack: StartedStack;
// Live bindings, set by setUpPaymentsGo (a file's beforeAll): read them inside tests, not at import time.
export let bin: string;
export let logDir: string;
const started: PaymentsGo[] = [];
let spawned = 0;

/** Resolves the binary and starts the native stack; a file's beforeAll (60 s). */
export async function setUpPaymentsGo(): Promise<void> {
  // Missing binary: ToolMissingError says to run "npm run setup" (the test fails with it, it does not skip).
  bin = (await resolveTool("payments-go")).path;
  stack = await new NativeBackend().start();
  logDir = path.join(stack.runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
}

/** Stops every service a test started; a file's afterEach. */
export async function stopStartedPaymentsGo(): Promise<void> {
  await Promise.all(started.splice(0).map((s) => s.stop()));
}

/** Stops the stack; a file's afterAll. */
export async function tearDownPaymentsGo(): Promise<void> {
  await stack?.stop();
}

/** Spawns the Go binary with the environment the harness gives a gRPC mesh service, and waits for /readyz 200. */
export async function startPaymentsGo(extraEnv: Record<string, string> = {}): Promise<PaymentsGo> {
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

export function readLogLines(file: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

export function traceparent(): { traceId: string; parentSpanId: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  return { traceId, parentSpanId, header: `00-${traceId}-${parentSpanId}-01` };
}

/** The value of one sample (name and exact labels) on a /metrics page, undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
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

export function grpcLabels(code: string): Record<string, string> {
  return { grpc_service: SERVICE, grpc_method: "Charge", grpc_code: code };
}

/** The payments server span of a trace, once Jaeger has it. */
export async function serverSpan(traceId: string): Promise<Span> {
  const trace = await retryUntil(
    () => stack.traces.getTrace(traceId),
    (t) => t !== undefined && t.spans.some((s) => s.service === "payments" && s.kind === "server"),
    { timeoutMs: 20_000, description: `payments server span of trace ${traceId} in Jaeger` },
  );
  return trace!.spans.find((s) => s.service === "payments" && s.kind === "server")!;
}

export async function adminStatus(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
