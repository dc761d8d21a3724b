import fs from "node:fs";
import path from "node:path";
import type { StartedStack } from "../backends/stack";
import type { ScrapeTarget } from "../backends/prometheus";
import { fillPlaceholders, placeholderNames, type PlaceholderValues } from "../config/placeholders";
import type { MeshConfig, ServiceConfig } from "../config/mesh-config";
import { ConfigError, ReadinessTimeoutError } from "../errors";
import { startL7ProxyProcess, type L7ProxyProcess } from "../faults/l7-proxy/process";
import { resolveTool, TOOL_NAMES, type ToolName } from "../tools/tools";
import { ManagedProcess } from "../util/managed-process";
import { freePort } from "../util/ports";
import { retryUntil } from "../util/retry";
import { meshNames } from "./mesh-plan";
import { answersReady } from "./readiness";
import { configuredService, judgedServices } from "./external-mesh";
import { ProcessService } from "./process-launcher";
import { serviceInfo, type MeshService, type StartedMesh } from "./started-mesh";

export interface LaunchOptions {
  /** The config's folder: relative paths (cwd, contracts, log files) are resolved from it. */
  baseDir: string;
  stack: StartedStack;
  /** Where the services' logs go (logs/<service>.log). */
  runDir: string;
  samplingRatio: number;
  /** Keeps this launch's Prometheus job and Toxiproxy proxies apart from other launches on the stack (--workers). */
  namespace?: string;
  signal?: AbortSignal;
}

/** What a launch started, stopped in reverse by stop(). */
interface Started {
  scrapeJob: string;
  l7?: L7ProxyProcess;
  /** Toxiproxy proxy name by link name. */
  proxies: Map<string, string>;
  services: ProcessService[];
}

/**
 * Starts the config's services the way their owner would, with every link through a proxy meshproof controls:
 * the caller calls Toxiproxy, which forwards to an L7 fault proxy in front of an HTTP or gRPC callee, which forwards
 * to the callee's real address. Placeholders are filled (free ports, the links' proxy addresses, the OTLP
 * endpoints), each service is launched in its own process group and awaited until ready, and its /metrics is
 * registered with Prometheus. A start that fails half-way stops what it started, then rethrows.
 */
export async function launchConfigMesh(config: MeshConfig, options: LaunchOptions): Promise<StartedMesh> {
  const names = meshNames(options.namespace);
  const started: Started = { scrapeJob: names.scrapeJob, proxies: new Map(), services: [] };
  const stop = () => stopLaunched(started, options.stack);
  try {
    const values = await placeholderValues(config, options);
    await createLinks(config, options, values, started);
    const services = await launchServices(config, options, values, started);
    options.stack.prometheus.addTargets(names.scrapeJob, scrapeTargets(config, values));
    await waitUntilReady(config, services, values, options);
    return startedMesh(config, options, services, values, started, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The placeholders' values for this launch: free ports chosen now, the links' proxies once created. */
async function placeholderValues(config: MeshConfig, options: LaunchOptions) {
  const text = JSON.stringify(config);
  const ports = new Map<string, number>();
  for (const name of new Set(placeholderNames(text, "port"))) ports.set(name, await freePort());
  const links = new Map<string, string>();
  const tools = new Map<string, string>();
  for (const name of new Set(placeholderNames(text, "tool"))) {
    if (!(TOOL_NAMES as readonly string[]).includes(name))
      throw new ConfigError(`{{tool:${name}}}: not a tool meshproof provisions (${TOOL_NAMES.join(", ")})`);
    tools.set(name, (await resolveTool(name as ToolName)).path);
  }
  const values: PlaceholderValues & { links: Map<string, string> } = {
    port: (name) => ports.get(name)!,
    link: (name) => {
      const address = links.get(name);
      if (!address)
        throw new ConfigError(
          `{{link:${name}}}: no link of that name (links: ${Object.keys(config.links ?? {}).join(", ")})`,
        );
      return address;
    },
    tool: (name) => tools.get(name)!,
    otlp: { http: options.stack.jaeger.otlpHttpUrl, grpc: `http://${options.stack.jaeger.otlpGrpcEndpoint}` },
    samplingRatio: options.samplingRatio,
    run: options.runDir,
    links,
  };
  return values;
}

/** A Toxiproxy proxy per link, in front of an L7 fault proxy where the callee speaks HTTP or gRPC. */
async function createLinks(
  config: MeshConfig,
  options: LaunchOptions,
  values: Awaited<ReturnType<typeof placeholderValues>>,
  started: Started,
): Promise<void> {
  const links = Object.entries(config.links ?? {});
  if (links.some(([, l]) => l.protocol === "http" || l.protocol === "grpc"))
    started.l7 = await startL7ProxyProcess({ logFile: path.join(options.runDir, "logs", "l7-proxy.log") });
  for (const [name, link] of links) {
    const address = fillPlaceholders(link.address, values, `links.${name}.address`);
    let upstream = address;
    if (started.l7 && (link.protocol === "http" || link.protocol === "grpc"))
      upstream = (await started.l7.client.createProxy({ name, upstream: address, protocol: link.protocol })).listen;
    const proxyName = meshNames(options.namespace).proxy(name);
    const proxy = await options.stack.toxiproxy.client.createProxy(proxyName, upstream);
    started.proxies.set(name, proxyName);
    values.links.set(name, proxy.listen);
  }
}

async function launchServices(
  config: MeshConfig,
  options: LaunchOptions,
  values: PlaceholderValues,
  started: Started,
): Promise<Map<string, ProcessService>> {
  const logDir = path.join(options.runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const launched = new Map<string, ProcessService>();
  for (const [name, s] of Object.entries(config.services)) {
    if (!s.launch) continue;
    const fill = (text: string, key: string) => fillPlaceholders(text, values, `services.${name}.launch.${key}`);
    const [command, ...args] = s.launch.command.map((c, i) => fill(c, `command[${i}]`));
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      // Standard OTel SDK settings: OTLP over HTTP to meshproof's Jaeger, batches exported every second.
      OTEL_EXPORTER_OTLP_ENDPOINT: values.otlp.http,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_BSP_SCHEDULE_DELAY: "1000",
      ...Object.fromEntries(Object.entries(s.launch.env ?? {}).map(([k, v]) => [k, fill(v, `env.${k}`)])),
    };
    const spawn = () =>
      ManagedProcess.spawn({
        name,
        command: command!,
        args,
        env,
        cwd: path.resolve(options.baseDir, s.launch!.cwd ?? "."),
        logFile: path.join(logDir, `${name}.log`),
      });
    const service = new ProcessService(name, spawn, await spawn());
    started.services.push(service);
    launched.set(name, service);
  }
  return launched;
}

/** Each service with its own /metrics, as a Prometheus target labelled with the service. */
function scrapeTargets(config: MeshConfig, values: PlaceholderValues): ScrapeTarget[] {
  return Object.entries(config.services).flatMap(([name, s]) => {
    if (typeof s.metricsUrl !== "string") return [];
    const url = new URL(fillPlaceholders(s.metricsUrl, values, `services.${name}.metricsUrl`));
    return [{ address: url.host, labels: { service: name, __metrics_path__: url.pathname } }];
  });
}

/** Where a launched service says it is ready: its readyUrl, readyz, url or /metrics, in that order. */
function readyUrlOf(s: ServiceConfig): string | undefined {
  return s.launch?.readyUrl ?? s.readyzUrl ?? s.url ?? (typeof s.metricsUrl === "string" ? s.metricsUrl : undefined);
}

async function waitUntilReady(
  config: MeshConfig,
  services: Map<string, ProcessService>,
  values: PlaceholderValues,
  options: LaunchOptions,
): Promise<void> {
  await Promise.all(
    [...services].map(async ([name, service]) => {
      const s = config.services[name]!;
      const ready = readyUrlOf(s);
      if (!ready) return;
      const url = fillPlaceholders(ready, values, `services.${name}`);
      try {
        await retryUntil(
          async () => {
            if (!service.running) throw new ConfigError(`${name} ${service.exitDescription} before it was ready`);
            return answersReady(url);
          },
          Boolean,
          {
            timeoutMs: s.launch?.readyTimeoutMs ?? 30_000,
            description: `${name} ready at ${url}`,
            ...(options.signal ? { signal: options.signal } : {}),
          },
        );
      } catch (error) {
        throw new ReadinessTimeoutError(`${(error as Error).message}; its last log lines:\n${service.logTail(20)}`);
      }
    }),
  );
}

function startedMesh(
  config: MeshConfig,
  options: LaunchOptions,
  launched: Map<string, ProcessService>,
  values: PlaceholderValues,
  started: Started,
  stop: () => Promise<void>,
): StartedMesh {
  const fill = (text: string, key: string) => fillPlaceholders(text, values, key);
  const logDir = path.join(options.runDir, "logs");
  const services: Record<string, MeshService> = {};
  for (const [name, s] of judgedServices(config)) {
    const handle = launched.get(name);
    const ready = readyUrlOf(s);
    const service: MeshService = {
      ...configuredService(name, s, config, options.baseDir, fill),
      ...(ready ? { readyUrl: fill(ready, `services.${name}`) } : {}),
      ...(handle ? { control: handle, logFile: path.join(logDir, `${name}.log`) } : {}),
    };
    // The pid follows the process across a kill and its start.
    if (handle) Object.defineProperty(service, "pid", { get: () => handle.pid, enumerable: true });
    services[name] = service;
  }
  const edge = Object.entries(config.services).find(([, s]) => s.role === "edge")!;
  return {
    kind: `launched from its config (${config.name})`,
    services,
    edgeUrl: fill(edge[1].url!, `services.${edge[0]}.url`).replace(/\/$/, ""),
    links: Object.fromEntries(started.proxies),
    toxiproxy: options.stack.toxiproxy.client,
    linkEnds: Object.fromEntries(Object.entries(config.links ?? {}).map(([n, l]) => [n, { from: l.from, to: l.to }])),
    ...(started.l7 ? { l7: started.l7.client } : {}),
    scrapeJob: started.scrapeJob,
    exportIntervalMs: config.exportIntervalMs ?? 1_000,
    serviceInfos: () => Object.values(services).map(serviceInfo),
    flush: async () => {
      await Promise.all(Object.values(services).flatMap((s) => (s.admin ? [s.admin.flush()] : [])));
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function stopLaunched(started: Started, stack: StartedStack): Promise<void> {
  await Promise.all(started.services.splice(0).map((s) => s.dispose()));
  stack.prometheus.removeTargets(started.scrapeJob);
  const proxies = [...started.proxies.values()];
  started.proxies.clear();
  await Promise.all(proxies.map((p) => stack.toxiproxy.client.deleteProxy(p)));
  await started.l7?.stop();
  delete started.l7;
}
