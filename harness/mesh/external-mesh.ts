import fs from "node:fs";
import path from "node:path";
import { BUILTIN_CONTRACTS, ContractError, parseContract, type TelemetryContract } from "../../assertions/contract";
import { PrometheusClient } from "../backends/prometheus";
import { ToxiproxyClient } from "../backends/toxiproxy";
import { JaegerTraceStore } from "../backends/trace-store";
import type { MeshConfig } from "../config/mesh-config";
import { ConfigError } from "../errors";
import type { RouteCatalog } from "../load/routes";
import { MESH_ROUTES } from "../load/routes";
import { AdminClient } from "./admin-client";
import { serviceInfo, type MeshService, type StartedMesh } from "./started-mesh";
import type { MeshTarget } from "./target";

/** OpenTelemetry's default batch span processor delay: how long spans may wait when nobody can flush them. */
export const OTEL_DEFAULT_EXPORT_INTERVAL_MS = 5_000;

/** A contract by name ("node", "go") or file; a file path is relative to `baseDir`. */
export function resolveContract(spec: string, baseDir: string): TelemetryContract {
  if (spec === "node" || spec === "go") return BUILTIN_CONTRACTS[spec];
  const file = path.resolve(baseDir, spec);
  if (!fs.existsSync(file)) throw new ConfigError(`contract ${file} does not exist (built-in contracts: node, go)`);
  try {
    return parseContract(JSON.parse(fs.readFileSync(file, "utf8")), file);
  } catch (error) {
    if (error instanceof ContractError) throw new ConfigError(error.message);
    throw new ConfigError(`contract ${file} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * A mesh meshproof did not start, judged through what its config offers: the run loop attaches to it for each
 * scenario and leaves it running; faults are injected only where the config gives the means (admin API, Toxiproxy
 * links, pids), and a scenario needing more is not applicable.
 */
export function externalMeshTarget(config: MeshConfig, configFile: string, runDir: string): MeshTarget {
  const baseDir = path.dirname(path.resolve(configFile));
  const services: Record<string, MeshService> = {};
  for (const [name, s] of Object.entries(config.services)) {
    services[name] = {
      name,
      protocol: s.protocol,
      role: s.role ?? "internal",
      impl: "external",
      instance: new URL(s.metricsUrl).host,
      metricsUrl: s.metricsUrl,
      healthzUrl: s.healthzUrl,
      readyzUrl: s.readyzUrl,
      contract: resolveContract(s.contract, baseDir),
      ...(s.operations ? { operations: s.operations } : {}),
      ...(s.admin ? { admin: new AdminClient(s.admin.url, s.admin.token) } : {}),
      ...(s.logFile ? { jsonLogFile: path.resolve(baseDir, s.logFile) } : {}),
      ...(s.pid ? { pid: s.pid } : {}),
    };
  }
  const edge = Object.values(services).find((s) => s.role === "edge")!;
  const toxiproxy = config.faults?.toxiproxy;
  const mesh: StartedMesh = {
    kind: `external (${path.basename(configFile)})`,
    services,
    edgeUrl: config.services[edge.name]!.url!.replace(/\/$/, ""),
    links: toxiproxy?.links ?? {},
    ...(toxiproxy ? { toxiproxy: new ToxiproxyClient(toxiproxy.url) } : {}),
    scrapeJob: config.prometheus.job,
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
  const routes: RouteCatalog = config.requests
    ? Object.fromEntries(Object.entries(config.requests).map(([route, request]) => [route, () => request]))
    : MESH_ROUTES;
  const has = (pick: (s: MeshService) => unknown) =>
    new Set(
      Object.values(services)
        .filter(pick)
        .map((s) => s.name),
    );
  return {
    description: `external mesh "${config.name}" (${configFile})`,
    capabilities: {
      serviceFaults: has((s) => s.admin),
      processFaults: has((s) => s.pid),
      links: new Set(Object.keys(mesh.links)),
    },
    ...(config.topology ? { topology: config.topology } : {}),
    routes,
    prometheus: new PrometheusClient(config.prometheus.url),
    traces: new JaegerTraceStore(config.traces.jaegerQueryUrl),
    runDir,
    samplingRatio: config.samplingRatio ?? 1,
    samplingRatios: [config.samplingRatio ?? 1],
    // Its own traffic may move its counters between scenarios: never treated as settled.
    acquire: async () => ({ mesh, reused: false }),
    release: async () => {},
    close: async () => {},
  };
}
