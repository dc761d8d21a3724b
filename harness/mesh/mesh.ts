import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BUILTIN_CONTRACTS, type TelemetryContract } from "../../assertions/contract";
import { MESH_LINKS, MESH_SERVICES, type MeshLink, type MeshServiceName } from "../../scenarios/lib/mesh";
import type { StartedStack } from "../backends/stack";
import { ConfigError } from "../errors";
import { resolveTool } from "../tools/tools";
import { ManagedProcess } from "../util/managed-process";
import { freePort, LOOPBACK } from "../util/ports";
import { retryUntil } from "../util/retry";
import { AdminClient } from "./admin-client";
import type { LaunchedService, ServiceLauncher, ServiceLaunch } from "./launcher";
import { serviceInfo, type MeshService, type StartedMesh } from "./started-mesh";

export { MESH_LINKS, MESH_SERVICES } from "../../scenarios/lib/mesh";
export type { MeshLink, MeshServiceName } from "../../scenarios/lib/mesh";

/** The sample mesh as the harness knows it: protocol, role, the operations each declares, its implementations. */
export const SAMPLE_MESH: Record<
  MeshServiceName,
  { protocol: "http" | "grpc"; role: "edge" | "internal"; operations: string[]; impls: readonly Impl[] }
> = {
  gateway: {
    protocol: "http",
    role: "edge",
    operations: ["POST /api/checkout", "GET /api/orders/:id", "GET /api/products/:sku"],
    impls: ["node"],
  },
  orders: { protocol: "http", role: "internal", operations: ["POST /orders", "GET /orders/:id"], impls: ["node"] },
  inventory: {
    protocol: "grpc",
    role: "internal",
    operations: ["meshproof.inventory.v1.Inventory/GetProduct", "meshproof.inventory.v1.Inventory/Reserve"],
    impls: ["node"],
  },
  payments: {
    protocol: "grpc",
    role: "internal",
    operations: ["meshproof.payments.v1.Payments/Charge"],
    impls: ["node", "go"],
  },
};

/** Implementations a service can run as: the Node kit, or Go (services/payments-go, built by setup). */
export type Impl = "node" | "go";

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
  "healthz-ignores-stall",
  "force-sampled-outgoing",
  "no-drain",
];

/**
 * Checks defect names: "name" switches a defect on in every service, "service:name" in that service only. Throws
 * ConfigError naming the first unknown one and the valid ones.
 */
export function checkDefects(defects: readonly string[]): void {
  for (const d of defects) {
    const [service, name] = d.includes(":") ? d.split(":", 2) : [undefined, d];
    if (service !== undefined && !(MESH_SERVICES as readonly string[]).includes(service))
      throw new ConfigError(`unknown service "${service}" in defect "${d}"; services: ${MESH_SERVICES.join(", ")}`);
    if (!KNOWN_DEFECTS.includes(name!))
      throw new ConfigError(`unknown defect "${name}"; valid defects: ${KNOWN_DEFECTS.join(", ")}`);
  }
}

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
  /** Defects to switch on: "name" in every service, "service:name" in one. Default: none. */
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
  /** Which implementation each service runs. Default: node everywhere. */
  impl?: Partial<Record<MeshServiceName, Impl>>;
  /** The contract each service is judged by. Default: its implementation's built-in contract. */
  contracts?: Partial<Record<MeshServiceName, TelemetryContract>>;
  /**
   * Environment every service gets on top of the harness's own (default: the OTEL_* variables the harness was given,
   * which the services' OpenTelemetry SDKs honour over their own defaults).
   */
  env?: Record<string, string>;
  /** Extra environment per service (wins over `env`): `--service-env payments:OTEL_BSP_MAX_QUEUE_SIZE=64`. */
  serviceEnv?: Partial<Record<MeshServiceName, Record<string, string>>>;
  /** Where the services run. Default: native processes (processLauncher()); containers: ContainerLauncher. */
  launcher?: ServiceLauncher;
  /** Aborts the start while it waits for readiness (SIGINT/SIGTERM); what started is stopped. */
  signal?: AbortSignal;
}

/** The liveness heap limit the sample mesh's services run with (256 MiB). */
export const HEAP_LIMIT_BYTES = 256 * 2 ** 20;

/** One running service of the sample mesh, a process or a container. */
export interface SampleService extends MeshService {
  name: MeshServiceName;
  /** Main port (HTTP or gRPC). */
  port: number;
  /** Port serving /metrics, /healthz, /readyz (the main port for HTTP services). */
  opsPort: number;
  adminPort: number;
  admin: AdminClient;
  /** stdout/stderr of the service. */
  logFile: string;
  jsonLogFile: string;
  /** Host pid of its main process (follows a restart). */
  readonly pid: number;
  /** The process or container it runs as. */
  handle: LaunchedService;
  control: LaunchedService;
}

/** The sample mesh, as native processes or containers. */
export interface SampleMesh extends StartedMesh {
  readonly services: Record<MeshServiceName, SampleService>;
  /** http://127.0.0.1:PORT of the gateway (= edgeUrl). */
  readonly gatewayUrl: string;
  readonly links: Record<MeshLink, string>;
  pids(): number[];
}

/** @deprecated the sample mesh is not always native processes: SampleMesh. */
export type NativeMesh = SampleMesh;
/** @deprecated SampleService. */
export type NativeService = SampleService;

interface Plan {
  name: MeshServiceName;
  impl: Impl;
  port: number;
  opsPort: number;
  adminPort: number;
  env: Record<string, string>;
}

/**
 * V8 flags of every Node service, native or in a container: the one list both use (harness/docker/images.ts bakes it
 * into the node-service image as MESHPROOF_NODE_FLAGS, which its entry point passes to node). A 1 MB young generation
 * (semi-space) makes even a lightly loaded service collect garbage every few dozen requests, so its GC metrics move
 * within a scenario's seconds (the default 16 MB lets a service at 10 calls/s go a whole scenario without one
 * scavenge). --expose-gc lets the revert of a memory fault collect what it held (a full GC of ~3 ms): without it the
 * heap gauge stays up until V8's next mark-compact, which a lightly loaded service went 20 s without
 * (services/lib/resource-faults.ts).
 */
export const NODE_FLAGS = ["--max-semi-space-size=1", "--expose-gc"];

const SCRAPE_JOB = "mesh";

/** dist/ of this build: services run from the compiled output next to the harness. */
function distRoot(): string {
  return path.resolve(__dirname, "../..");
}

/** The OTEL_* variables of this process: passed to every service, whose SDK honours them over its defaults. */
export function otelEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("OTEL_") && e[1] !== undefined),
  );
}

/**
 * Starts gateway, orders, inventory and payments against the stack: free ports, config by env, every network link
 * (gateway -> orders, gateway -> inventory, orders -> inventory, orders -> payments, orders -> Redis) through its
 * own Toxiproxy proxy, every /readyz 200, /metrics registered with Prometheus (job "mesh"). The services run where
 * options.launcher puts them (native processes by default, or containers): the wiring is the same. A start that fails
 * half-way stops what it started and rethrows with the last log lines.
 */
export async function startMesh(stack: StartedStack, options: MeshOptions = {}): Promise<SampleMesh> {
  const defects = options.defects ?? [];
  checkDefects(defects);
  const defectsOf = (name: MeshServiceName) =>
    defects.filter((d) => !d.includes(":") || d.startsWith(`${name}:`)).map((d) => d.slice(d.indexOf(":") + 1));
  const ratio = options.samplingRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(`samplingRatio must be within 0..1 (got ${ratio})`);
  const impl = (name: MeshServiceName): Impl => options.impl?.[name] ?? "node";
  for (const name of MESH_SERVICES)
    if (!SAMPLE_MESH[name].impls.includes(impl(name)))
      throw new ConfigError(
        `${name} has no "${impl(name)}" implementation; valid: ${SAMPLE_MESH[name].impls.join(", ")}`,
      );
  const launcher = options.launcher ?? processLauncher();
  const runDir = options.runDir ?? stack.runDir;
  const logDir = path.join(runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const adminToken = options.adminToken ?? randomBytes(24).toString("hex");
  const mode = options.telemetry ?? "full";
  const toxiproxy = stack.toxiproxy.client;

  const ports: Record<MeshServiceName, { port: number; opsPort: number; adminPort: number }> = {} as never;
  for (const name of MESH_SERVICES) {
    const port = await freePort();
    const grpc = SAMPLE_MESH[name].protocol === "grpc";
    ports[name] = { port, opsPort: grpc ? await freePort() : port, adminPort: await freePort() };
  }
  const upstream: Record<MeshLink, string> = {
    "gateway-orders": `${LOOPBACK}:${ports.orders.port}`,
    "gateway-inventory": `${LOOPBACK}:${ports.inventory.port}`,
    "orders-inventory": `${LOOPBACK}:${ports.inventory.port}`,
    "orders-payments": `${LOOPBACK}:${ports.payments.port}`,
    "orders-redis": `${stack.redis.host}:${stack.redis.port}`,
  };
  const proxies = {} as Record<MeshLink, string>;
  const deleteProxies = () => Promise.all(Object.keys(proxies).map((name) => toxiproxy.deleteProxy(name)));
  try {
    for (const link of MESH_LINKS) proxies[link] = (await toxiproxy.createProxy(link, upstream[link])).listen;
  } catch (error) {
    await deleteProxies();
    throw error;
  }

  const common = (name: MeshServiceName): Record<string, string> => ({
    ...(options.env ?? otelEnvironment()),
    MESHPROOF_SERVICE_NAME: name,
    MESHPROOF_INSTANCE_ID: `${name}-${LOOPBACK}:${ports[name].opsPort}`,
    MESHPROOF_PORT: String(ports[name].port),
    MESHPROOF_ADMIN_PORT: String(ports[name].adminPort),
    MESHPROOF_ADMIN_TOKEN: adminToken,
    MESHPROOF_LOG_FILE: path.join(logDir, `${name}.jsonl`),
    MESHPROOF_OTLP_URL: stack.jaeger.otlpHttpUrl,
    MESHPROOF_SAMPLING_RATIO: String(ratio),
    MESHPROOF_SEED: String(options.seed ?? 1),
    MESHPROOF_DEFECTS: defectsOf(name).join(","),
    // Far above a service's working heap (20-40 MiB), below what the memory scenario holds: /healthz must say so.
    MESHPROOF_HEAP_LIMIT_BYTES: String(HEAP_LIMIT_BYTES),
    ...(SAMPLE_MESH[name].protocol === "grpc" ? { MESHPROOF_OPS_PORT: String(ports[name].opsPort) } : {}),
  });
  const dependencies: Record<MeshServiceName, Record<string, string>> = {
    inventory: {},
    payments: {},
    orders: {
      MESHPROOF_REDIS_URL: `redis://${proxies["orders-redis"]}`,
      MESHPROOF_INVENTORY_ADDR: proxies["orders-inventory"],
      MESHPROOF_PAYMENTS_ADDR: proxies["orders-payments"],
    },
    gateway: {
      MESHPROOF_ORDERS_URL: `http://${proxies["gateway-orders"]}`,
      MESHPROOF_INVENTORY_ADDR: proxies["gateway-inventory"],
    },
  };
  // Leaves first (the order of the services in messages and pids()); all start at once, and a caller's readiness
  // waits for its dependencies.
  const order: MeshServiceName[] = ["inventory", "payments", "orders", "gateway"];
  const plans: Plan[] = order.map((name) => ({
    name,
    impl: impl(name),
    ...ports[name],
    env: { ...common(name), ...dependencies[name], ...options.serviceEnv?.[name] },
  }));

  const started: SampleService[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.handle.dispose()));
  };
  // Targets go in before the services start: Prometheus takes 5-10 s to act on a file_sd change (two fixed 5 s
  // throttles), which then overlaps with start-up instead of delaying the first scrape.
  stack.prometheus.addTargets(
    SCRAPE_JOB,
    plans.map((p) => ({ address: `${LOOPBACK}:${p.opsPort}`, labels: { service: p.name } })),
  );
  const release = async () => {
    stack.prometheus.removeTargets(SCRAPE_JOB);
    await stopAll();
    await deleteProxies();
  };
  const contracts = options.contracts ?? {};
  try {
    const launches = await Promise.allSettled(
      plans.map(async (plan) => {
        const launch: ServiceLaunch = {
          name: plan.name,
          impl: plan.impl,
          env: plan.env,
          nodeArgs: options.nodeArgs?.[plan.name] ?? [],
          telemetry: mode,
          logDir,
          logFile: path.join(logDir, `${plan.name}.log`),
        };
        started.push(sampleService(plan, launch, await launcher.launch(launch), adminToken, contracts[plan.name]));
      }),
    );
    const failed = launches.find((l): l is PromiseRejectedResult => l.status === "rejected");
    if (failed) throw failed.reason;
    started.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
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
            ...(options.signal ? { signal: options.signal } : {}),
            failFast: () => (s.handle.running ? undefined : new Error(`${s.name} ${s.handle.exitDescription}`)),
          },
        ),
      ),
    );
  } catch (error) {
    await release();
    const tails = started.map((s) => `--- ${s.name} (${s.logFile}) ---\n${s.handle.logTail(20)}`).join("\n");
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`mesh did not start: ${message}\n${tails}`, { cause: error });
  }

  const services = Object.fromEntries(started.map((s) => [s.name, s])) as Record<MeshServiceName, SampleService>;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= release());
  const gatewayUrl = `http://${LOOPBACK}:${ports.gateway.port}`;
  return {
    kind: launcher.kind,
    services,
    edgeUrl: gatewayUrl,
    gatewayUrl,
    links: Object.fromEntries(MESH_LINKS.map((l) => [l, l])) as Record<MeshLink, string>,
    toxiproxy,
    scrapeJob: SCRAPE_JOB,
    exportIntervalMs: 0,
    serviceInfos: () => MESH_SERVICES.map((n) => serviceInfo(services[n])),
    pids: () => started.map((s) => s.pid),
    flush: async () => {
      await Promise.all(started.filter((s) => s.handle.running).map((s) => s.admin.flush()));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The mesh's view of a launched service: its URLs, admin client and contract; pid and control follow the handle. */
function sampleService(
  plan: Plan,
  launch: ServiceLaunch,
  handle: LaunchedService,
  token: string,
  contract: TelemetryContract | undefined,
): SampleService {
  const ops = `http://${LOOPBACK}:${plan.opsPort}`;
  return {
    name: plan.name,
    protocol: SAMPLE_MESH[plan.name].protocol,
    role: SAMPLE_MESH[plan.name].role,
    impl: plan.impl,
    instance: `${LOOPBACK}:${plan.opsPort}`,
    contract: contract ?? BUILTIN_CONTRACTS[plan.impl],
    operations: SAMPLE_MESH[plan.name].operations,
    port: plan.port,
    opsPort: plan.opsPort,
    adminPort: plan.adminPort,
    metricsUrl: `${ops}/metrics`,
    healthzUrl: `${ops}/healthz`,
    readyzUrl: `${ops}/readyz`,
    admin: new AdminClient(`http://${LOOPBACK}:${plan.adminPort}`, token),
    logFile: launch.logFile,
    jsonLogFile: plan.env.MESHPROOF_LOG_FILE!,
    get pid() {
      return handle.pid;
    },
    handle,
    control: handle,
  };
}

/**
 * Runs each service as a native process in its own process group (on the lifeline), from this build's dist/ (Node)
 * or the tool cache (Go). Process faults are signals to the group; start() spawns it again with the same command.
 */
export function processLauncher(): ServiceLauncher {
  let goBinary: Promise<string> | undefined;
  return {
    kind: "native processes",
    async launch(service) {
      const command =
        service.impl === "go"
          ? await goCommand(service, (goBinary ??= resolveTool("payments-go").then((t) => t.path)))
          : nodeCommand(service);
      const spawn = () =>
        ManagedProcess.spawn({ name: service.name, ...command, logFile: service.logFile, cwd: distRoot() });
      return new ProcessService(service.name, spawn, await spawn());
    },
  };
}

const BASE_ENV = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" });

async function goCommand(service: ServiceLaunch, binary: Promise<string>) {
  return { command: await binary, args: [], env: { ...BASE_ENV(), ...service.env } };
}

function nodeCommand(service: ServiceLaunch) {
  const dist = distRoot();
  return {
    command: process.execPath,
    args: [
      ...NODE_FLAGS,
      ...service.nodeArgs,
      ...(service.telemetry === "none" ? [] : ["--require", path.join(dist, "services/lib/telemetry.js")]),
      path.join(dist, "services", service.name, "main.js"),
    ],
    env: {
      ...BASE_ENV(),
      NODE_ENV: "production",
      // Metrics go through prom-client, logs through pino: the OTel SDK exports traces only (a user's OTEL_* in
      // service.env may still say otherwise). The node-service image sets the same.
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      ...(service.telemetry === "sdk-disabled" ? { OTEL_SDK_DISABLED: "true" } : {}),
      ...service.env,
    },
  };
}

/** A service as a native process group: signals for the process faults, a fresh spawn for start(). */
class ProcessService implements LaunchedService {
  constructor(
    private readonly name: string,
    private readonly spawn: () => Promise<ManagedProcess>,
    private process: ManagedProcess,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  get exitDescription(): string | undefined {
    return this.process.exitDescription;
  }

  logTail(lines = 20): string {
    return this.process.logTail(lines);
  }

  async kill(): Promise<void> {
    this.process.signal("SIGKILL");
    await this.process.waitForExit();
  }

  async freeze(): Promise<void> {
    this.process.signal("SIGSTOP");
  }

  async thaw(): Promise<void> {
    this.process.signal("SIGCONT");
  }

  async start(): Promise<void> {
    if (this.process.running) throw new Error(`${this.name} (pid ${this.pid}) is still running`);
    this.process = await this.spawn();
  }

  stopGracefully(): Promise<void> {
    return this.process.stop(6_000);
  }

  dispose(): Promise<void> {
    // A frozen process would only take the SIGTERM once thawed.
    if (this.process.running) this.process.signal("SIGCONT");
    return this.process.stop(6_000);
  }
}
