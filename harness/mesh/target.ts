import path from "node:path";
import type { Topology } from "../../assertions/expectations";
import type { PrometheusClient } from "../backends/prometheus";
import type { StartedStack } from "../backends/stack";
import type { TraceStore } from "../backends/trace-store";
import { FAULTS, type FaultSpec } from "../../assertions/faults";
import type { RouteCatalog } from "../load/routes";
import { MESH_ROUTES } from "../load/routes";
import { startMesh } from "./mesh";
import type { MeshOptions } from "./mesh-options";
import { MESH_LINKS, MESH_SERVICES } from "./sample-mesh";
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

/** What a scenario asks of the mesh it runs on (a mesh started with other options is not reused). */
export interface ScenarioMeshOptions {
  /** Root sampling ratio of the services. Default: the target's. */
  samplingRatio?: number;
}

/** A mesh handed to a scenario; `reused` when it ran the previous scenario too (warm, counters settled). */
export interface AcquiredMesh {
  mesh: StartedMesh;
  reused: boolean;
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
  /** Root sampling ratio the services run with unless a scenario asks for another. */
  readonly samplingRatio: number;
  /** Sampling ratios the mesh can run with (an external mesh: only its own). Undefined: any. */
  readonly samplingRatios?: readonly number[];
  /**
   * A mesh for the scenario: the previous one when it is clean and was started with the same options (reusing it
   * saves the start-up, the fixed cost of a scenario), else a fresh one.
   */
  acquire(scenario: string, options: ScenarioMeshOptions, signal?: AbortSignal): Promise<AcquiredMesh>;
  /** Hands the mesh back; `dirty` when the scenario may have left it changed (an abort, a failure, a failed revert). */
  release(mesh: StartedMesh, dirty: boolean): Promise<void>;
  /** Stops the mesh still kept for reuse. */
  close(): Promise<void>;
}

/**
 * The sample mesh on the stack, where options.launcher runs it (native processes by default, or containers): started
 * for the first scenario and kept while it stays clean, so later scenarios with the same mesh options reuse it; a
 * dirty one (an abort, a failure, a fault that did not revert) is replaced.
 */
export function sampleMeshTarget(stack: StartedStack, options: Omit<MeshOptions, "runDir"> = {}): MeshTarget {
  const all = new Set<string>(MESH_SERVICES);
  const impls = Object.entries(options.impl ?? {}).map(([s, i]) => `${s}=${i}`);
  let kept: { key: string; mesh: StartedMesh; clean: boolean } | undefined;
  const close = async () => {
    const mesh = kept?.mesh;
    kept = undefined;
    await mesh?.stop();
  };
  const kind = options.launcher?.kind ?? "native processes";
  return {
    description: `sample mesh (${kind}${impls.length ? `, ${impls.join(", ")}` : ""})`,
    capabilities: { serviceFaults: all, processFaults: all, links: new Set(MESH_LINKS) },
    routes: MESH_ROUTES,
    prometheus: stack.prometheus,
    traces: stack.traces,
    runDir: stack.runDir,
    samplingRatio: options.samplingRatio ?? 1,
    async acquire(scenario, wanted, signal) {
      const samplingRatio = wanted.samplingRatio ?? options.samplingRatio ?? 1;
      const key = JSON.stringify({ samplingRatio });
      if (kept?.key === key && kept.clean) return { mesh: kept.mesh, reused: true };
      await close();
      const runDir = path.join(stack.runDir, "scenarios", scenario);
      const mesh = await startMesh(stack, { ...options, samplingRatio, runDir, ...(signal ? { signal } : {}) });
      kept = { key, mesh, clean: true };
      return { mesh, reused: false };
    },
    async release(mesh, dirty) {
      if (kept?.mesh !== mesh) return mesh.stop();
      kept.clean = !dirty;
      if (dirty) await close();
    },
    close,
  };
}

/** Why a scenario cannot run on this mesh (its faults, its sampling ratio), or undefined when it can. */
export function whyNotApplicable(
  faults: readonly FaultSpec[],
  capabilities: MeshCapabilities,
  sampling?: { wanted?: number; possible?: readonly number[] },
): string | undefined {
  if (sampling?.wanted !== undefined && sampling.possible && !sampling.possible.includes(sampling.wanted))
    return `the mesh samples at ${sampling.possible.join(", ")}, the scenario needs ${sampling.wanted}`;
  const missing = faults.flatMap((f) => {
    const service = f.target.split(".")[0]!;
    switch (FAULTS[f.kind].site) {
      case "edge": // an overload is the load itself: any mesh takes it
        return [];
      case "link":
        return capabilities.links.has(f.target) ? [] : [`${f.kind} on ${f.target} (no Toxiproxy link of that name)`];
      case "process":
        return capabilities.processFaults.has(service) ? [] : [`${f.kind} of ${service} (no process to signal)`];
      default:
        return capabilities.serviceFaults.has(service)
          ? []
          : [`${f.kind} on ${f.target} (no admin API for ${service})`];
    }
  });
  return missing.length ? `the mesh cannot take ${missing.join("; ")}` : undefined;
}
