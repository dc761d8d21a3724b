import type { StartedMesh } from "./started-mesh";
import type { MeshTarget } from "./target";

/** Starts one mesh of a pool: its name keeps it apart from the others on the same stack (undefined: no others). */
export type StartPooledMesh = (
  scenario: string,
  samplingRatio: number,
  namespace: string | undefined,
  signal?: AbortSignal,
) => Promise<StartedMesh>;

/**
 * Meshes started for scenarios and kept while they stay clean: a later scenario with the same sampling ratio reuses
 * an idle one (start-up is a scenario's main fixed cost); a dirty one (an abort, a failure, a fault that did not
 * revert) is stopped. Up to `size` meshes live at once (one per worker), each in its own namespace when there may be
 * more than one; an idle mesh of another sampling ratio makes room for a new one.
 */
export function reusableMesh(
  start: StartPooledMesh,
  size = 1,
): (defaultRatio: number) => Pick<MeshTarget, "acquire" | "release" | "close"> {
  const kept: { samplingRatio: number; mesh: StartedMesh; busy: boolean }[] = [];
  let started = 0;
  const drop = async (mesh: StartedMesh) => {
    const at = kept.findIndex((k) => k.mesh === mesh);
    if (at >= 0) kept.splice(at, 1);
    await mesh.stop();
  };
  return (defaultRatio) => ({
    async acquire(scenario, wanted, signal) {
      const samplingRatio = wanted.samplingRatio ?? defaultRatio;
      const idle = kept.find((k) => !k.busy && k.samplingRatio === samplingRatio);
      if (idle) {
        idle.busy = true;
        return { mesh: idle.mesh, reused: true };
      }
      for (let other = kept.find((k) => !k.busy); other && kept.length >= size; other = kept.find((k) => !k.busy))
        await drop(other.mesh);
      const mesh = await start(scenario, samplingRatio, size > 1 ? `m${++started}` : undefined, signal);
      kept.push({ samplingRatio, mesh, busy: true });
      return { mesh, reused: false };
    },
    async release(mesh, dirty) {
      const held = kept.find((k) => k.mesh === mesh);
      if (!held || dirty) return drop(mesh);
      held.busy = false;
    },
    async close() {
      await Promise.all(kept.map((k) => k.mesh).map(drop));
    },
  });
}
