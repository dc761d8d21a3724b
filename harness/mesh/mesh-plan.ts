import path from "node:path";
import type { ScrapeTarget } from "../backends/prometheus";
import type { StartedStack } from "../backends/stack";
import { freePort, LOOPBACK } from "../util/ports";
import type { ServiceLaunch } from "./launcher";
import { implOf, type MeshOptions } from "./mesh-options";
import { defectsOf, MESH_SERVICES, SAMPLE_MESH, type Impl, type MeshLink, type MeshServiceName } from "./sample-mesh";

/** The liveness heap limit the sample mesh's services run with (256 MiB). */
export const HEAP_LIMIT_BYTES = 256 * 2 ** 20;

/** The Prometheus job that scrapes the sample mesh's services. */
export const SCRAPE_JOB = "mesh";

/**
 * The names a mesh takes on a shared stack: its Prometheus job and its links' Toxiproxy proxies, prefixed by its
 * namespace when other meshes run beside it (--workers), else job "mesh" and proxies named by link.
 */
export function meshNames(namespace: string | undefined): { scrapeJob: string; proxy: (link: string) => string } {
  return namespace
    ? { scrapeJob: `${SCRAPE_JOB}-${namespace}`, proxy: (link) => `${namespace}-${link}` }
    : { scrapeJob: SCRAPE_JOB, proxy: (link) => link };
}

/**
 * The order of the services in messages and pids(): leaves first. All start at once; a caller's readiness waits for
 * its dependencies.
 */
export const START_ORDER: readonly MeshServiceName[] = ["inventory", "payments", "orders", "gateway"];

/** A service's ports: main (HTTP or gRPC), ops (/metrics, /healthz, /readyz; the main one for HTTP) and admin. */
export interface ServicePorts {
  port: number;
  opsPort: number;
  adminPort: number;
}

/** One service as planned: its implementation, ports and whole environment. */
export interface ServicePlan extends ServicePorts {
  name: MeshServiceName;
  impl: Impl;
  env: Record<string, string>;
}

/** What the services' environments are built from. */
export interface PlanInputs {
  stack: StartedStack;
  options: MeshOptions;
  ports: Record<MeshServiceName, ServicePorts>;
  /** Listen address of each link's Toxiproxy proxy. */
  proxies: Record<MeshLink, string>;
  adminToken: string;
  logDir: string;
}

/** The OTEL_* variables of this process: passed to every service, whose SDK honours them over its defaults. */
export function otelEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("OTEL_") && e[1] !== undefined),
  );
}

/** Free ports for every service, in MESH_SERVICES order (gRPC services get a separate ops port). */
export async function planPorts(): Promise<Record<MeshServiceName, ServicePorts>> {
  const ports: Record<MeshServiceName, ServicePorts> = {} as never;
  for (const name of MESH_SERVICES) {
    const port = await freePort();
    const grpc = SAMPLE_MESH[name].protocol === "grpc";
    ports[name] = { port, opsPort: grpc ? await freePort() : port, adminPort: await freePort() };
  }
  return ports;
}

/** Where each link's proxy forwards to: the downstream service's main port, or Redis. */
export function upstreams(
  ports: Record<MeshServiceName, ServicePorts>,
  redis: { host: string; port: number },
): Record<MeshLink, string> {
  return {
    "gateway-orders": `${LOOPBACK}:${ports.orders.port}`,
    "gateway-inventory": `${LOOPBACK}:${ports.inventory.port}`,
    "orders-inventory": `${LOOPBACK}:${ports.inventory.port}`,
    "orders-payments": `${LOOPBACK}:${ports.payments.port}`,
    "orders-redis": `${redis.host}:${redis.port}`,
  };
}

/** A plan per service, in START_ORDER; per-service options.serviceEnv wins over everything else. */
export function planServices(inputs: PlanInputs): ServicePlan[] {
  const dependencies = dependencyEnvironment(inputs.proxies);
  return START_ORDER.map((name) => ({
    name,
    impl: implOf(inputs.options, name),
    ...inputs.ports[name],
    env: { ...commonEnvironment(inputs, name), ...dependencies[name], ...inputs.options.serviceEnv?.[name] },
  }));
}

/** The Prometheus targets of the planned services: their ops ports, labelled with the service. */
export function scrapeTargets(plans: readonly ServicePlan[]): ScrapeTarget[] {
  return plans.map((p) => ({ address: `${LOOPBACK}:${p.opsPort}`, labels: { service: p.name } }));
}

/** One plan as a launcher takes it. */
export function serviceLaunch(plan: ServicePlan, options: MeshOptions, logDir: string): ServiceLaunch {
  return {
    name: plan.name,
    impl: plan.impl,
    env: plan.env,
    nodeArgs: options.nodeArgs?.[plan.name] ?? [],
    telemetry: options.telemetry ?? "full",
    logDir,
    logFile: path.join(logDir, `${plan.name}.log`),
  };
}

function commonEnvironment(inputs: PlanInputs, name: MeshServiceName): Record<string, string> {
  const { stack, options, ports, adminToken, logDir } = inputs;
  return {
    ...(options.env ?? otelEnvironment()),
    MESHPROOF_SERVICE_NAME: name,
    MESHPROOF_INSTANCE_ID: `${name}-${LOOPBACK}:${ports[name].opsPort}`,
    MESHPROOF_PORT: String(ports[name].port),
    MESHPROOF_ADMIN_PORT: String(ports[name].adminPort),
    MESHPROOF_ADMIN_TOKEN: adminToken,
    MESHPROOF_LOG_FILE: path.join(logDir, `${name}.jsonl`),
    MESHPROOF_OTLP_URL: stack.jaeger.otlpHttpUrl,
    ...stack.traceExportEnv,
    MESHPROOF_SAMPLING_RATIO: String(options.samplingRatio ?? 1),
    MESHPROOF_SEED: String(options.seed ?? 1),
    MESHPROOF_DEFECTS: defectsOf(options.defects ?? [], name).join(","),
    // Far above a service's working heap (20-40 MiB), below what the memory scenario holds: /healthz must say so.
    MESHPROOF_HEAP_LIMIT_BYTES: String(HEAP_LIMIT_BYTES),
    ...(SAMPLE_MESH[name].protocol === "grpc" ? { MESHPROOF_OPS_PORT: String(ports[name].opsPort) } : {}),
  };
}

/** Each service's downstreams, every one through its link's proxy. */
function dependencyEnvironment(proxies: Record<MeshLink, string>): Record<MeshServiceName, Record<string, string>> {
  return {
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
}
