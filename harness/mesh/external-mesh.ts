import fs from "node:fs";
import path from "node:path";
import { BUILTIN_CONTRACTS, ContractError, parseContract, type TelemetryContract } from "../../assertions/contract";
import type { FaultMeans } from "../../scenarios/lib/topology";
import { PrometheusClient } from "../backends/prometheus";
import type { StartedStack } from "../backends/stack";
import { ToxiproxyClient } from "../backends/toxiproxy";
import { JaegerTraceStore, ZipkinTraceStore } from "../backends/trace-store";
import { topologyOf } from "../config/config-topology";
import type { MeshConfig, ServiceConfig } from "../config/mesh-config";
import { ConfigError } from "../errors";
import type { RouteCatalog } from "../load/routes";
import { AdminClient } from "./admin-client";
import { launchConfigMesh } from "./launched-mesh";
import { plannedLinks, plannedListen } from "./link-plan";
import { reusableMesh } from "./reusable-mesh";
import { serviceInfo, type MeshService, type StartedMesh } from "./started-mesh";
import { cgroupsUsable, type MeshTarget } from "./target";

/** OpenTelemetry's default batch span processor delay: how long spans may wait when nobody can flush them. */
export const OTEL_DEFAULT_EXPORT_INTERVAL_MS = 5_000;

/** A contract by name ("node", "go") or file; a file path is relative to `baseDir`. */
export function resolveContract(spec: string, baseDir: string): TelemetryContract {
  if (Object.hasOwn(BUILTIN_CONTRACTS, spec)) return BUILTIN_CONTRACTS[spec as keyof typeof BUILTIN_CONTRACTS];
  const file = path.resolve(baseDir, spec);
  if (!fs.existsSync(file))
    throw new ConfigError(
      `contract ${file} does not exist: give the path of a telemetry contract (JSON) or a built-in one (${Object.keys(BUILTIN_CONTRACTS).join(", ")})`,
    );
  try {
    return parseContract(JSON.parse(fs.readFileSync(file, "utf8")), file);
  } catch (error) {
    if (error instanceof ContractError) throw new ConfigError(error.message);
    throw new ConfigError(`contract ${file} is not JSON: ${(error as Error).message}`);
  }
}

/** Whether meshproof starts the config's services (then it needs backends of its own). */
export function launchesServices(config: MeshConfig): boolean {
  return Object.values(config.services).some((s) => s.launch);
}

/** The instrumented services of a config (datastores are called, not judged). */
export function judgedServices(config: MeshConfig): [string, ServiceConfig][] {
  return Object.entries(config.services).filter(([, s]) => s.role !== "datastore");
}

/** How the driver builds each route's request: the config's fixed requests. */
export function configRoutes(config: MeshConfig): RouteCatalog {
  return Object.fromEntries(Object.entries(config.routes).map(([route, r]) => [route, () => r.request]));
}

/**
 * A mesh meshproof did not write, judged through what its config offers. Services it launches run on `stack` (its
 * Jaeger, Prometheus and Toxiproxy, a proxy per link) and are started afresh when a scenario left them dirty; a mesh
 * the user started is attached to for each scenario and left running, and faults act only where the config gives
 * the means (admin API, Toxiproxy proxies, pids, containers).
 */
export function externalMeshTarget(
  config: MeshConfig,
  configFile: string,
  options: { runDir: string; stack?: StartedStack; workers?: number },
): MeshTarget {
  if (launchesServices(config)) {
    if (!options.stack) throw new Error("a launched mesh needs backends: start a stack first");
    return launchedTarget(config, configFile, options.stack, replicable(config) ? (options.workers ?? 1) : 1);
  }
  return attachedTarget(config, configFile, options);
}

/** Whether the harness must start backends of its own for the config: to launch it, or to proxy its links. */
export function needsOwnStack(config: MeshConfig): boolean {
  return launchesServices(config) || plannedLinks(config).length > 0;
}

/**
 * The means of fault injection the harness has on a config's mesh: on services it launches, signals and restarts
 * (and cgroups where this machine allows them), a Toxiproxy proxy per link and an L7 proxy in front of each HTTP or
 * gRPC callee; on a mesh the user started, what the config gives (admin APIs, pids, proxies it already routes through).
 */
export function configMeans(config: MeshConfig): FaultMeans {
  const judged = judgedServices(config);
  const admin = judged.flatMap(([name, s]) => (s.admin ? [name] : []));
  if (!launchesServices(config))
    return {
      admin,
      signal: judged.flatMap(([name, s]) => (s.pid ? [name] : [])),
      restart: [],
      cgroup: [],
      links: Object.entries(config.links ?? {}).flatMap(([n, l]) => (!l.proxy || config.toxiproxy ? [n] : [])),
      l7: [],
      samplingRatios: [config.samplingRatio ?? 1],
    };
  const launched = judged.filter(([, s]) => s.launch).map(([name]) => name);
  const links = Object.keys(config.links ?? {});
  return {
    admin,
    signal: launched,
    restart: launched,
    cgroup: cgroupsUsable() ? launched : [],
    links,
    // A request fault from outside needs a proxy that speaks the callee's protocol.
    l7: links.filter((l) => ["http", "grpc"].includes(config.links![l]!.protocol)),
    ...(usesSamplingPlaceholder(config) ? {} : { samplingRatios: [config.samplingRatio ?? 1] }),
  };
}

/**
 * Whether the config's mesh can run more than once at a time (--workers): meshproof launches every service, and
 * every address is a placeholder it fills with a free port (no literal host:port two launches would both take).
 */
export function replicable(config: MeshConfig): boolean {
  return (
    Object.values(config.services).every((s) => s.launch) &&
    !/\b(127\.0\.0\.1|localhost|\[::1\]):\d+/.test(JSON.stringify({ ...config, prometheus: undefined }))
  );
}

function launchedTarget(config: MeshConfig, configFile: string, stack: StartedStack, workers: number): MeshTarget {
  const baseDir = path.dirname(path.resolve(configFile));
  const reusable = reusableMesh(
    (scenario, samplingRatio, namespace, signal) =>
      launchConfigMesh(config, {
        baseDir,
        stack,
        runDir: path.join(stack.runDir, "scenarios", scenario),
        samplingRatio,
        ...(namespace ? { namespace } : {}),
        ...(signal ? { signal } : {}),
      }),
    workers,
  );
  return {
    description: `external mesh "${config.name}" launched from ${configFile}`,
    topology: topologyOf(config, configMeans(config)),
    routes: configRoutes(config),
    prometheus: stack.prometheus,
    traces: stack.traces,
    runDir: stack.runDir,
    samplingRatio: config.samplingRatio ?? 1,
    ...reusable(config.samplingRatio ?? 1),
  };
}

function usesSamplingPlaceholder(config: MeshConfig): boolean {
  return JSON.stringify(config.services).includes("{{samplingRatio}}");
}

function attachedTarget(
  config: MeshConfig,
  configFile: string,
  options: { runDir: string; stack?: StartedStack },
): MeshTarget {
  const baseDir = path.dirname(path.resolve(configFile));
  const planned = plannedLinks(config);
  if (planned.length && Object.values(config.links ?? {}).some((l) => l.proxy))
    throw new ConfigError(
      `${configFile}: links with a proxy of the mesh's own and links without one would need two Toxiproxies: give every link its proxy, or none`,
    );
  if (planned.length && !options.stack) throw new Error("proxying a mesh's links needs backends: start a stack first");
  const services: Record<string, MeshService> = {};
  for (const [name, s] of judgedServices(config)) services[name] = configuredService(name, s, config, baseDir);
  const edge = Object.values(services).find((s) => s.role === "edge")!;
  const proxied = Object.entries(config.links ?? {}).filter(([, l]) => l.proxy);
  const toxiproxy = planned.length
    ? options.stack!.toxiproxy.client
    : config.toxiproxy
      ? new ToxiproxyClient(config.toxiproxy.url)
      : undefined;
  let proxies: Promise<unknown> | undefined;
  const mesh: StartedMesh = {
    kind: `external (${path.basename(configFile)})`,
    services,
    edgeUrl: config.services[edge.name]!.url!.replace(/\/$/, ""),
    links: Object.fromEntries([
      ...proxied.map(([name, l]) => [name, l.proxy!]),
      ...planned.map(([name]) => [name, name]),
    ]),
    linkEnds: Object.fromEntries(Object.entries(config.links ?? {}).map(([n, l]) => [n, { from: l.from, to: l.to }])),
    ...(toxiproxy ? { toxiproxy } : {}),
    scrapeJob: config.prometheus!.job,
    exportIntervalMs: Object.values(services).every((s) => s.admin)
      ? 0
      : (config.exportIntervalMs ?? OTEL_DEFAULT_EXPORT_INTERVAL_MS),
    serviceInfos: () => Object.values(services).map(serviceInfo),
    flush: async () => {
      await Promise.all(Object.values(services).flatMap((s) => (s.admin ? [s.admin.flush()] : [])));
    },
    // Not ours to stop.
    stop: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return {
    description: `external mesh "${config.name}" (${configFile})`,
    topology: topologyOf(config, configMeans(config)),
    routes: configRoutes(config),
    prometheus: new PrometheusClient(config.prometheus!.url),
    traces:
      "zipkinUrl" in config.traces!
        ? new ZipkinTraceStore(config.traces.zipkinUrl)
        : new JaegerTraceStore(config.traces!.jaegerQueryUrl),
    runDir: options.runDir,
    samplingRatio: config.samplingRatio ?? 1,
    // Its own traffic may move its counters between scenarios: never treated as settled.
    acquire: async () => {
      proxies ??= Promise.all(
        planned.map(([name, l]) => toxiproxy!.createProxy(name, l.address, plannedListen(config, name, l))),
      );
      await proxies;
      return { mesh, reused: false };
    },
    release: async () => {},
    close: async () => {
      if (proxies) await Promise.all(planned.map(([name]) => toxiproxy!.deleteProxy(name)));
    },
  };
}

/**
 * One service of a config as the run loop reads it. `fill` resolves the placeholders of a launched mesh's URLs and
 * files (`where` names the key in errors); a mesh the user started has none.
 */
export function configuredService(
  name: string,
  s: ServiceConfig,
  config: MeshConfig,
  baseDir: string,
  fill: (value: string, where: string) => string = (value) => value,
): MeshService {
  const metrics = metricsUrlOf(name, config);
  const metricsUrl = metrics && fill(metrics, `services.${name}.metricsUrl`);
  return {
    name,
    protocol: s.protocol as MeshService["protocol"],
    role: s.role === "edge" ? "edge" : "internal",
    impl: "external",
    instance: metricsUrl ? new URL(metricsUrl).host : "",
    ...(metricsUrl ? { metricsUrl } : {}),
    ...(s.healthzUrl ? { healthzUrl: fill(s.healthzUrl, `services.${name}.healthzUrl`) } : {}),
    ...(s.readyzUrl ? { readyzUrl: fill(s.readyzUrl, `services.${name}.readyzUrl`) } : {}),
    contract: resolveContract(s.contract ?? "otel", baseDir),
    ...(s.operations ? { operations: s.operations } : {}),
    ...(s.admin ? { admin: new AdminClient(fill(s.admin.url, `services.${name}.admin.url`), s.admin.token) } : {}),
    ...(s.logFile ? { jsonLogFile: path.resolve(baseDir, fill(s.logFile, `services.${name}.logFile`)) } : {}),
    ...(s.pid ? { pid: s.pid, control: pidControl(name, s.pid) } : {}),
  };
}

/** A service's /metrics: its own, or the one it shares with another service's process. */
export function metricsUrlOf(name: string, config: MeshConfig): string | undefined {
  const url = config.services[name]?.metricsUrl;
  return typeof url === "object" ? (config.services[url.sharedWith]?.metricsUrl as string) : url;
}

/** A process the user started, by pid: it can be frozen and thawed, never started again. */
function pidControl(name: string, pid: number): NonNullable<MeshService["control"]> {
  const signal = (s: NodeJS.Signals) => async () => void process.kill(pid, s);
  const never = async () => {
    throw new ConfigError(`${name} (pid ${pid}) was started by you: meshproof cannot start it again`);
  };
  return { freeze: signal("SIGSTOP"), thaw: signal("SIGCONT"), kill: never, start: never, stopGracefully: never };
}
