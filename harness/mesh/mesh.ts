import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BUILTIN_CONTRACTS, type TelemetryContract } from "../../assertions/contract";
import type { ServiceInfo } from "../../assertions/evidence";
import type { StartedStack } from "../backends/stack";
import { ConfigError } from "../errors";
import { ManagedProcess } from "../util/managed-process";
import { freePort, LOOPBACK } from "../util/ports";
import { retryUntil } from "../util/retry";
import { AdminClient } from "./admin-client";

export const MESH_SERVICES = ["gateway", "orders", "inventory", "payments"] as const;
export type MeshServiceName = (typeof MESH_SERVICES)[number];

/** The sample mesh as the harness knows it: protocol, role and the operations each service declares. */
export const SAMPLE_MESH: Record<
  MeshServiceName,
  { protocol: "http" | "grpc"; role: "edge" | "internal"; operations: string[] }
> = {
  gateway: {
    protocol: "http",
    role: "edge",
    operations: ["POST /api/checkout", "GET /api/orders/:id", "GET /api/products/:sku"],
  },
  orders: { protocol: "http", role: "internal", operations: ["POST /orders", "GET /orders/:id"] },
  inventory: {
    protocol: "grpc",
    role: "internal",
    operations: ["meshproof.inventory.v1.Inventory/GetProduct", "meshproof.inventory.v1.Inventory/Reserve"],
  },
  payments: { protocol: "grpc", role: "internal", operations: ["meshproof.payments.v1.Payments/Charge"] },
};

/**
 * The defects the services accept through MESHPROOF_DEFECTS (the values of the environment contract between the
 * harness and services/lib/defects.ts; a unit test keeps the two lists equal).
 */
export const KNOWN_DEFECTS = [
  "drop-context",
  "status-label-200",
  "readyz-ignores-redis",
  "no-runtime-metrics",
  "default-registry",
  "raw-path-route",
  "histogram-ms",
  "log-outside-context",
  "exemplar-previous-request",
  "grpc-span-code-ok",
  "client-counter-ok-only",
  "liveness-checks-redis",
  "elu-frozen",
  "request-id-regenerated",
];

/** How the services are launched. */
export type TelemetryMode =
  /** --require telemetry.js, tracing on (the default). */
  | "full"
  /** --require telemetry.js with OTEL_SDK_DISABLED=true (modules patched, no spans). */
  | "sdk-disabled"
  /** No preload at all (the overhead baseline). */
  | "none";

export interface MeshOptions {
  /** Where logs/<service>.log and logs/<service>.jsonl go. Default: stack.runDir. */
  runDir?: string;
  /** MESHPROOF_DEFECTS for every service. Default: none. */
  defects?: string[];
  /** Seed of the services' fault decisions. Default 1. */
  seed?: number;
  /** Root sampling ratio. Default 1.0. */
  samplingRatio?: number;
  /** Admin bearer token. Default: random per mesh. */
  adminToken?: string;
  /** Default "full". */
  telemetry?: TelemetryMode;
  /** Extra node flags per service (e.g. --cpu-prof for the benchmark). */
  nodeArgs?: Partial<Record<MeshServiceName, string[]>>;
  /** Readiness deadline of the whole mesh. Default 30000. */
  readyTimeoutMs?: number;
  /** The contract each service is judged by. Default: its runtime's built-in contract. */
  contracts?: Partial<Record<MeshServiceName, TelemetryContract>>;
}

/** One running mesh service. */
export interface StartedService {
  name: MeshServiceName;
  protocol: "http" | "grpc";
  /** Main port (HTTP or gRPC). */
  port: number;
  /** Port serving /metrics, /healthz, /readyz (the main port for HTTP services). */
  opsPort: number;
  adminPort: number;
  metricsUrl: string;
  healthzUrl: string;
  readyzUrl: string;
  admin: AdminClient;
  /** stdout/stderr of the process. */
  logFile: string;
  /** Structured JSON log lines. */
  jsonLogFile: string;
  pid: number;
  process: ManagedProcess;
}

/** The running mesh. stop() is idempotent; `await using` calls it. */
export interface StartedMesh extends AsyncDisposable {
  services: Record<MeshServiceName, StartedService>;
  /** http://127.0.0.1:PORT of the gateway. */
  gatewayUrl: string;
  /** Toxiproxy proxy names of the mesh's network links: "orders-redis", "orders-payments". */
  links: Record<"orders-redis" | "orders-payments", string>;
  serviceInfos(): ServiceInfo[];
  pids(): number[];
  /** Force-exports every service's finished spans (POST /admin/flush). */
  flush(): Promise<void>;
  /** SIGTERM each service (they drain and flush), SIGKILL after the grace period. */
  stop(): Promise<void>;
}

interface Plan {
  name: MeshServiceName;
  protocol: "http" | "grpc";
  port: number;
  opsPort: number;
  adminPort: number;
  env: Record<string, string>;
}

/**
 * V8 flags of every Node service: a 1 MB young generation (semi-space) makes even a lightly loaded service collect
 * garbage every few dozen requests, so its GC metrics move within a scenario's seconds (the default 16 MB lets a
 * service at 10 calls/s go a whole scenario without one scavenge). --expose-gc lets the revert of a memory fault
 * collect what it held (a full GC of ~3 ms): without it the heap gauge stays up until V8's next mark-compact, which
 * a lightly loaded service went 20 s without (services/lib/resource-faults.ts).
 */
const NODE_FLAGS = ["--max-semi-space-size=1", "--expose-gc"];

/** dist/ of this build: services run from the compiled output next to the harness. */
function distRoot(): string {
  return path.resolve(__dirname, "../..");
}

/**
 * Starts gateway, orders, inventory and payments against the stack: free ports, config by env, orders -> Redis
 * (and orders -> payments) through Toxiproxy, every /readyz 200, /metrics registered with Prometheus (job "mesh").
 * A start that fails half-way stops what it started and rethrows with the last log lines.
 */
export async function startMesh(stack: StartedStack, options: MeshOptions = {}): Promise<StartedMesh> {
  const defects = options.defects ?? [];
  for (const d of defects) {
    if (!KNOWN_DEFECTS.includes(d)) throw new ConfigError(`unknown defect "${d}"; valid: ${KNOWN_DEFECTS.join(", ")}`);
  }
  const ratio = options.samplingRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(`samplingRatio must be within 0..1 (got ${ratio})`);
  const runDir = options.runDir ?? stack.runDir;
  const logDir = path.join(runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const adminToken = options.adminToken ?? randomBytes(24).toString("hex");
  const mode = options.telemetry ?? "full";

  const ports = async () => ({ port: await freePort(), opsPort: 0, adminPort: await freePort() });
  const inv = await ports();
  inv.opsPort = await freePort();
  const pay = await ports();
  pay.opsPort = await freePort();
  const ord = await ports();
  ord.opsPort = ord.port;
  const gw = await ports();
  gw.opsPort = gw.port;

  const redisProxy = await stack.toxiproxy.client.createProxy(
    "orders-redis",
    `${stack.redis.host}:${stack.redis.port}`,
  );
  const paymentsProxy = await stack.toxiproxy.client.createProxy("orders-payments", `${LOOPBACK}:${pay.port}`);

  const common = (name: MeshServiceName, p: { port: number; opsPort: number; adminPort: number }) => ({
    MESHPROOF_SERVICE_NAME: name,
    MESHPROOF_INSTANCE_ID: `${name}-${LOOPBACK}:${p.opsPort}`,
    MESHPROOF_PORT: String(p.port),
    MESHPROOF_ADMIN_PORT: String(p.adminPort),
    MESHPROOF_ADMIN_TOKEN: adminToken,
    MESHPROOF_LOG_FILE: path.join(logDir, `${name}.jsonl`),
    MESHPROOF_OTLP_URL: stack.jaeger.otlpHttpUrl,
    MESHPROOF_SAMPLING_RATIO: String(ratio),
    MESHPROOF_SEED: String(options.seed ?? 1),
    MESHPROOF_DEFECTS: defects.join(","),
  });
  const plans: Plan[] = [
    {
      name: "inventory",
      protocol: "grpc",
      ...inv,
      env: { ...common("inventory", inv), MESHPROOF_OPS_PORT: String(inv.opsPort) },
    },
    {
      name: "payments",
      protocol: "grpc",
      ...pay,
      env: { ...common("payments", pay), MESHPROOF_OPS_PORT: String(pay.opsPort) },
    },
    {
      name: "orders",
      protocol: "http",
      ...ord,
      env: {
        ...common("orders", ord),
        MESHPROOF_REDIS_URL: `redis://${redisProxy.listen}`,
        MESHPROOF_INVENTORY_ADDR: `${LOOPBACK}:${inv.port}`,
        MESHPROOF_PAYMENTS_ADDR: paymentsProxy.listen,
      },
    },
    {
      name: "gateway",
      protocol: "http",
      ...gw,
      env: {
        ...common("gateway", gw),
        MESHPROOF_ORDERS_URL: `http://${LOOPBACK}:${ord.port}`,
        MESHPROOF_INVENTORY_ADDR: `${LOOPBACK}:${inv.port}`,
      },
    },
  ];

  const started: StartedService[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.process.stop(6_000)));
  };
  // Targets go in before the services start: Prometheus takes 5-10 s to act on a file_sd change (two fixed 5 s
  // throttles), which then overlaps with start-up instead of delaying the first scrape.
  stack.prometheus.addTargets(
    "mesh",
    plans.map((p) => ({ address: `${LOOPBACK}:${p.opsPort}`, labels: { service: p.name } })),
  );
  const failStart = async () => {
    stack.prometheus.removeTargets("mesh");
    await stopAll();
    await deleteProxies(stack, [redisProxy.name, paymentsProxy.name]);
  };
  try {
    for (const plan of plans)
      started.push(await launch(plan, logDir, adminToken, mode, options.nodeArgs?.[plan.name] ?? []));
    const deadlineMs = options.readyTimeoutMs ?? 30_000;
    await Promise.all(
      started.map((s) =>
        retryUntil(
          async () => (await fetch(s.readyzUrl, { signal: AbortSignal.timeout(2_000) })).status,
          (status) => status === 200,
          {
            timeoutMs: deadlineMs,
            description: `${s.name} GET ${s.readyzUrl} = 200`,
            maxDelayMs: 200,
            failFast: () => (s.process.running ? undefined : new Error(`${s.name} ${s.process.exitDescription}`)),
          },
        ),
      ),
    );
  } catch (error) {
    await failStart();
    const tails = started.map((s) => `--- ${s.name} (${s.logFile}) ---\n${s.process.logTail(20)}`).join("\n");
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`mesh did not start: ${message}\n${tails}`, { cause: error });
  }

  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<MeshServiceName, StartedService>;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stack.prometheus.removeTargets("mesh");
      await stopAll();
      await deleteProxies(stack, [redisProxy.name, paymentsProxy.name]);
    })());
  return {
    services,
    gatewayUrl: `http://${LOOPBACK}:${gw.port}`,
    links: { "orders-redis": redisProxy.name, "orders-payments": paymentsProxy.name },
    serviceInfos: () =>
      started.map((s) => ({
        name: s.name,
        role: SAMPLE_MESH[s.name].role,
        protocol: s.protocol,
        instance: `${LOOPBACK}:${s.opsPort}`,
        contract: options.contracts?.[s.name] ?? BUILTIN_CONTRACTS.node,
        impl: "node",
        operations: SAMPLE_MESH[s.name].operations,
      })),
    pids: () => started.map((s) => s.pid),
    flush: async () => {
      await Promise.all(started.filter((s) => s.process.running).map((s) => s.admin.flush()));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function launch(
  plan: Plan,
  logDir: string,
  token: string,
  mode: TelemetryMode,
  nodeArgs: string[],
): Promise<StartedService> {
  const dist = distRoot();
  const logFile = path.join(logDir, `${plan.name}.log`);
  const preload = mode === "none" ? [] : ["--require", path.join(dist, "services/lib/telemetry.js")];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    ...(mode === "sdk-disabled" ? { OTEL_SDK_DISABLED: "true" } : {}),
    ...plan.env,
  };
  const proc = await ManagedProcess.spawn({
    name: plan.name,
    command: process.execPath,
    args: [...NODE_FLAGS, ...nodeArgs, ...preload, path.join(dist, "services", plan.name, "main.js")],
    logFile,
    cwd: dist,
    env,
  });
  const ops = `http://${LOOPBACK}:${plan.opsPort}`;
  return {
    name: plan.name,
    protocol: plan.protocol,
    port: plan.port,
    opsPort: plan.opsPort,
    adminPort: plan.adminPort,
    metricsUrl: `${ops}/metrics`,
    healthzUrl: `${ops}/healthz`,
    readyzUrl: `${ops}/readyz`,
    admin: new AdminClient(`http://${LOOPBACK}:${plan.adminPort}`, token),
    logFile,
    jsonLogFile: plan.env.MESHPROOF_LOG_FILE!,
    pid: proc.pid,
    process: proc,
  };
}

/** Removes Toxiproxy proxies (absent ones are fine). */
async function deleteProxies(stack: StartedStack, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => stack.toxiproxy.client.deleteProxy(name)));
}
