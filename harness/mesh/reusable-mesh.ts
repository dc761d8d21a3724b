import type { StartedMesh } from "./started-mesh";
import type { MeshTarget } from "./target";

/**
 * A mesh started for the first scenario and kept while it stays clean: a later scenario with the same sampling ratio
 * reuses it (its start-up is a scenario's main fixed cost); a dirty one (an abort, a failure, a fault that did not
 * revert) is stopped and the next scenario starts a fresh one.
 */
export function reusableMesh(
  start: (scenario: string, samplingRatio: number, signal?: AbortSignal) => Promise<StartedMesh>,
): (defaultRatio: number) => Pick<MeshTarget, "acquire" | "release" | "close"> {
  let kept: { samplingRatio: number; mesh: StartedMesh; clean: boolean } | undefined;
  const close = async () => {
    const mesh = kept?.mesh;
    kept = undefined;
    await mesh?.stop();
  };
  return (defaultRatio) => ({
    async acquire(scenario, wanted, signal) {
      const samplingRatio = wanted.samplingRatio ?? defaultRatio;
      if (kept?.samplingRatio === samplingRatio && kept.clean) return { mesh: kept.mesh, reused: true };
      await close();
      const mesh = await start(scenario, samplingRatio, signal);
      kept = { samplingRatio, mesh, clean: true };
      return { mesh, reused: false };
    },
    async release(mesh, dirty) {
      if (kept?.mesh !== mesh) return mesh.stop();
      kept.clean = !dirty;
      if (dirty) await close();
    },
    close,
  });
}
