import path from "node:path";
import type { Topology } from "../../assertions/expectations";
import type { PrometheusClient } from "../backends/prometheus";
import type { StartedStack } from "../backends/stack";
import type { TraceStore } from "../backends/trace-store";
import type { FaultPlan } from "../faults/faults";
import type { RouteCatalog } from "../load/routes";
import { MESH_ROUTES } from "../load/routes";
import { MESH_LINKS, MESH_SERVICES, startMesh, type MeshOptions } from "./mesh";
import type { StartedMesh } from "./started-mesh";

/** What a mesh lets the harness do: a scenario that needs more is "not applicable", never passed. */
export interface MeshCapabilities {
  /** Services with an admin API (service faults). */
  serviceFaults: ReadonlySet<string>;
  /** Services whose process the harness may signal (process faults). */
  processFaults: ReadonlySet<string>;
  /** Links routed through Toxiproxy (network faults). */
  links: ReadonlySet<string>;
}

/**
 * The mesh a run judges: how to get it for a scenario, where its telemetry is read, and what it allows. The run
 * loop never branches on which mesh it is (the sample mesh meshproof starts, or one described by --config).
 */
export interface MeshTarget {
  /** For the report: "sample mesh (native processes, payments=go)", "external (meshproof.config.ts)". */
  readonly description: string;
  readonly capabilities: MeshCapabilities;
  /** The mesh's own call graph, when it replaces the scenarios' (an external mesh). */
  readonly topology?: Topology;
  /** How the driver builds each route's request. */
  readonly routes: RouteCatalog;
  readonly prometheus: PrometheusClient;
  readonly traces: TraceStore;
  /** Where each scenario keeps what it writes (logs of the mesh it starts). */
  readonly runDir: string;
  /** Root sampling ratio the services run with. */
  readonly samplingRatio: number;
  /** Starts (or attaches to) the mesh for a scenario; signal aborts a start still waiting for readiness. */
  start(scenario: string, signal?: AbortSignal): Promise<StartedMesh>;
}

/**
 * The sample mesh, started afresh for each scenario on the stack, where options.launcher runs it (native processes
 * by default, or containers).
 */
export function sampleMeshTarget(stack: StartedStack, options: Omit<MeshOptions, "runDir"> = {}): MeshTarget {
  const all = new Set<string>(MESH_SERVICES);
  const impls = Object.entries(options.impl ?? {}).map(([s, i]) => `${s}=${i}`);
  const kind = options.launcher?.kind ?? "native processes";
  return {
    description: `sample mesh (${kind}${impls.length ? `, ${impls.join(", ")}` : ""})`,
    capabilities: { serviceFaults: all, processFaults: all, links: new Set(MESH_LINKS) },
    routes: MESH_ROUTES,
    prometheus: stack.prometheus,
    traces: stack.traces,
    runDir: stack.runDir,
    samplingRatio: options.samplingRatio ?? 1,
    start: (scenario, signal) =>
      startMesh(stack, {
        ...options,
        runDir: path.join(stack.runDir, "scenarios", scenario),
        ...(signal ? { signal } : {}),
      }),
  };
}

/** Fault kinds that act on a link, on a process, or through a service's admin API. */
const PROCESS_KINDS = new Set(["kill", "freeze", "restart"]);

/** Why a scenario's faults cannot be injected into this mesh, or undefined when they all can. */
export function whyNotApplicable(faults: readonly FaultPlan[], capabilities: MeshCapabilities): string | undefined {
  const missing = faults.flatMap((f) => {
    if (f.kind.startsWith("link-"))
      return capabilities.links.has(f.target) ? [] : [`${f.kind} on ${f.target} (no Toxiproxy link of that name)`];
    const service = f.target.split(".")[0]!;
    if (PROCESS_KINDS.has(f.kind))
      return capabilities.processFaults.has(service) ? [] : [`${f.kind} of ${service} (no process to signal)`];
    return capabilities.serviceFaults.has(service) ? [] : [`${f.kind} on ${f.target} (no admin API for ${service})`];
  });
  return missing.length ? `the mesh cannot take ${missing.join("; ")}` : undefined;
}
