import { reusableMesh } from "../../../harness/mesh/reusable-mesh";
import type { StartedMesh } from "../../../harness/mesh/started-mesh";

/** A pool over fake meshes (pure logic: which mesh a scenario gets), recording starts and stops. */
function pool(size: number) {
  const starts: { scenario: string; ratio: number; namespace: string | undefined }[] = [];
  const stopped: string[] = [];
  const target = reusableMesh(async (scenario, ratio, namespace) => {
    starts.push({ scenario, ratio, namespace });
    return { kind: scenario, stop: async () => void stopped.push(scenario) } as unknown as StartedMesh;
  }, size)(1);
  return { target, starts, stopped };
}

describe("the meshes of a run (one per worker)", () => {
  test("one worker: one mesh, no namespace, reused while clean, replaced when dirty or of another ratio", async () => {
    const { target, starts, stopped } = pool(1);
    const a = await target.acquire("a", {});
    await target.release(a.mesh, false);
    const b = await target.acquire("b", {});
    expect([a.reused, b.reused, b.mesh]).toEqual([false, true, a.mesh]);
    await target.release(b.mesh, true);
    const c = await target.acquire("c", {});
    await target.release(c.mesh, false);
    await target.acquire("d", { samplingRatio: 0.5 });
    expect(starts).toEqual([
      { scenario: "a", ratio: 1, namespace: undefined },
      { scenario: "c", ratio: 1, namespace: undefined },
      { scenario: "d", ratio: 0.5, namespace: undefined },
    ]);
    expect(stopped).toEqual(["a", "c"]);
    await target.close();
    expect(stopped).toEqual(["a", "c", "d"]);
  });

  test("workers: a busy mesh is never handed out twice; each new mesh has its own namespace; close stops all", async () => {
    const { target, starts, stopped } = pool(2);
    const a = await target.acquire("a", {});
    const b = await target.acquire("b", {});
    expect(a.mesh).not.toBe(b.mesh);
    expect(starts.map((s) => s.namespace)).toEqual(["m1", "m2"]);
    await target.release(a.mesh, false);
    const c = await target.acquire("c", {});
    expect([c.reused, c.mesh]).toEqual([true, a.mesh]);
    await target.release(b.mesh, false);
    await target.release(c.mesh, false);
    // Both idle at ratio 1: a scenario at 0.5 makes room by stopping one.
    await target.acquire("d", { samplingRatio: 0.5 });
    expect(starts.at(-1)).toEqual({ scenario: "d", ratio: 0.5, namespace: "m3" });
    expect(stopped).toHaveLength(1);
    await target.close();
    expect(stopped.sort()).toEqual(["a", "b", "d"]);
  });
});
