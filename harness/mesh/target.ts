import path from "node:path";
import type { MeshTopology } from "../../scenarios/lib/topology";
import type { PrometheusClient } from "../backends/prometheus";
import type { StartedStack } from "../backends/stack";
import type { TraceStore } from "../backends/trace-store";
import type { FaultSpec } from "../../assertions/faults";
import { injectorFor } from "../faults/registry";
import type { RouteCatalog } from "../load/routes";
import { MESH_ROUTES } from "../load/routes";
import { startMesh } from "./mesh";
import type { MeshOptions } from "./mesh-options";
import { sampleTopology } from "../../scenarios/lib/sample-topology";
import { reusableMesh } from "./reusable-mesh";
import { cgroupSupport } from "../faults/cgroup";
import { MESH_SERVICES } from "../../scenarios/lib/sample-topology";
import type { StartedMesh } from "./started-mesh";

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
  /** The mesh as the catalog's templates see it: services, links, routes, error table, probe model, means. */
  readonly topology: MeshTopology;
  /** How the driver builds each route's request. */
  readonly routes: RouteCatalog;
  readonly prometheus: PrometheusClient;
  readonly traces: TraceStore;
  /** Where each scenario keeps what it writes (logs of the mesh it starts). */
  readonly runDir: string;
  /** Root sampling ratio the services run with unless a scenario asks for another. */
  readonly samplingRatio: number;
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
 * dirty one (an abort, a failure, a fault that did not revert) is replaced. With workers > 1, up to that many meshes
 * run at once, each under its own Prometheus job and Toxiproxy names.
 */
export function sampleMeshTarget(
  stack: StartedStack,
  options: Omit<MeshOptions, "runDir" | "namespace"> = {},
  workers = 1,
): MeshTarget {
  const impls = Object.entries(options.impl ?? {}).map(([s, i]) => `${s}=${i}`);
  const kind = options.launcher?.kind ?? "native processes";
  const reusable = reusableMesh(
    (scenario, samplingRatio, namespace, signal) =>
      startMesh(stack, {
        ...options,
        samplingRatio,
        runDir: path.join(stack.runDir, "scenarios", scenario),
        ...(namespace ? { namespace } : {}),
        ...(signal ? { signal } : {}),
      }),
    workers,
  );
  return {
    description: `sample mesh (${kind}${impls.length ? `, ${impls.join(", ")}` : ""})`,
    topology: sampleTopology(options.impl, {
      // A native process can be moved into a cgroup; a container's is the engine's.
      cgroup: options.launcher?.kind === "containers" || !cgroupsUsable() ? [] : MESH_SERVICES,
    }),
    routes: MESH_ROUTES,
    prometheus: stack.prometheus,
    traces: stack.traces,
    runDir: stack.runDir,
    samplingRatio: options.samplingRatio ?? 1,
    ...reusable(options.samplingRatio ?? 1),
  };
}

/** Why a scenario cannot run on this mesh (its faults, its sampling ratio), or undefined when it can. */
export function whyNotApplicable(
  faults: readonly FaultSpec[],
  mesh: MeshTopology,
  samplingRatio?: number,
): string | undefined {
  const possible = mesh.means.samplingRatios;
  if (samplingRatio !== undefined && possible && !possible.includes(samplingRatio))
    return `the mesh samples at ${possible.join(", ")}, the scenario needs ${samplingRatio}`;
  const missing = faults.flatMap((f) => {
    const found = injectorFor(f, mesh);
    return "whyNot" in found ? [found.whyNot] : [];
  });
  return missing.length ? `the mesh cannot take ${missing.join("; ")}` : undefined;
}

/** Whether this machine lets the harness throttle and freeze processes through cgroups. */
export function cgroupsUsable(): boolean {
  const support = cgroupSupport();
  return support.cpu.ok && support.freeze.ok;
}
