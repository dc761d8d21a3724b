import { loadBoundCatalog } from "../../../scenarios";
import { sampleTopology } from "../../../scenarios/lib/sample-topology";
import { rcaVariants } from "../../../harness/run/rca-variants";

describe("the RCA benchmark's fault variants", () => {
  const mesh = sampleTopology();
  const catalog = loadBoundCatalog(undefined, mesh).scenarios;
  const runs = [0, 1, 2].map((run) => rcaVariants(catalog, mesh, run));
  const fault = (run: number, name: string) => runs[run]!.find((s) => s.name === `${name}-run${run + 1}`)!.faults;

  test("every fault scenario but the overload, renamed per run; the first run keeps each target", () => {
    const faulted = catalog.filter((s) => s.faults.length > 0 && s.faults.every((f) => f.kind !== "overload"));
    expect(runs[0]!.map((s) => s.name)).toEqual(faulted.map((s) => `${s.name}-run1`));
    for (const s of faulted) expect(fault(0, s.name).map((f) => f.target)).toEqual(s.faults.map((f) => f.target));
  });

  test("intensities climb the ladder run by run: a quarter, half, three quarters of a core; 64, 128, 256 MB", () => {
    expect([0, 1, 2].map((r) => fault(r, "cpu-burn")[0]!.params)).toEqual([
      { fraction: 0.25 },
      { fraction: 0.5 },
      { fraction: 0.75 },
    ]);
    expect([0, 1, 2].map((r) => fault(r, "memory-pressure").map((f) => (f.params as { mb: number }).mb))).toEqual([
      [64, 64],
      [128, 128],
      [256, 256],
    ]);
  });

  test("targets move among those the mesh offers the same means for; the edge is never stopped", () => {
    const services = new Set(mesh.means.admin);
    const cpuTargets = [0, 1, 2].map((r) => fault(r, "cpu-burn")[0]!.target);
    expect(new Set(cpuTargets).size).toBe(3);
    for (const t of cpuTargets) expect(services.has(t)).toBe(true);
    for (const r of [0, 1, 2]) {
      expect(fault(r, "process-kill")[0]!.target).not.toBe("gateway");
      expect(mesh.means.links).toContain(fault(r, "link-latency")[0]!.target);
      // A method fault stays a method fault of a leaf.
      expect(fault(r, "payments-errors")[0]!.target).toMatch(/^\w+\.\w+$/);
    }
    // A datastore link's fault moves only among datastore links (here there is one).
    expect([0, 1, 2].map((r) => fault(r, "redis-outage")[0]!.target)).toEqual(Array(3).fill("orders-redis"));
  });
});
