import type { Scenario } from "../../scenarios/lib/scenario-model";
import { FaultJournal } from "../faults/journal";
import type { StartedMesh } from "../mesh/started-mesh";
import type { AcquiredMesh } from "../mesh/target";
import { ProbePoller } from "../probes/probe-poller";
import { ProcessSampler } from "../probes/process-sampler";
import { AbortRun, type RunContext } from "./scenario-run";

/** A mesh held for one scenario, with what watches it from its start: the fault journal, probe poller, sampler. */
export interface MeshSession {
  mesh: StartedMesh;
  /** It ran the previous scenario too (warm, counters settled). */
  reused: boolean;
  journal: FaultJournal;
  poller: ProbePoller;
  sampler?: ProcessSampler;
}

/** The mesh for the scenario: a mesh that never came up aborts the scenario, not the run. */
export function acquireMesh(scenario: Scenario, context: RunContext): Promise<AcquiredMesh> {
  return context.target.acquire(scenario.name, scenario.mesh ?? {}, context.signal).catch((error: Error) => {
    throw new AbortRun(error.message);
  });
}

/**
 * The session on an acquired mesh: the scenario's faults checked against it (ConfigError when it cannot take one,
 * and the mesh is released), the probe poller and process sampler started.
 */
export async function watchMesh(acquired: AcquiredMesh, scenario: Scenario, context: RunContext): Promise<MeshSession> {
  const { mesh, reused } = acquired;
  const journal = new FaultJournal(mesh, context.target.topology);
  try {
    for (const fault of scenario.faults) journal.validate(fault);
  } catch (error) {
    await context.target.release(mesh, true);
    throw error;
  }
  const poller = new ProbePoller(
    Object.values(mesh.services).map((s) => ({ service: s.name, healthzUrl: s.healthzUrl, readyzUrl: s.readyzUrl })),
  ).start();
  const withPid = Object.values(mesh.services).filter((s) => s.pid !== undefined);
  const sampler =
    withPid.length && ProcessSampler.available()
      ? new ProcessSampler(withPid.map((s) => ({ service: s.name, pid: () => s.pid }))).start()
      : undefined;
  return { mesh, reused, journal, poller, ...(sampler ? { sampler } : {}) };
}

/**
 * Gives the mesh back, always: every fault reverted first, then the poller and sampler stopped. A `dirty` mesh (an
 * abort, a failure, a fault left unreverted) is not handed to the next scenario.
 */
export async function releaseMesh(session: MeshSession, context: RunContext, dirty: boolean): Promise<void> {
  await session.journal.revertAll();
  await session.poller.stop();
  session.sampler?.stop();
  await context.target.release(session.mesh, dirty);
}

/** The services' log files: their structured logs and captured output. */
export function logFilesOf(mesh: StartedMesh): string[] {
  return Object.values(mesh.services).flatMap((s) => [s.jsonLogFile, s.logFile].filter((f): f is string => !!f));
}
