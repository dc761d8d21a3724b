import { ConfigError } from "../../../harness/errors";
import type { FaultSpec } from "../../../assertions/faults";
import { FaultJournal } from "../../../harness/faults/journal";
import { sampleTopology } from "../../../scenarios/lib/sample-topology";
import { AdminClient, type StartedMesh } from "../../../harness/mesh";
import { startAdminServer } from "../../../services/lib";
import { makeKit, shutdown } from "../kit/kit-fixtures";

/** The injector against a real kit admin API: a mesh of one service whose admin client is all the injector uses. */
async function meshOfOne() {
  const kit = makeKit([], "payments");
  const admin = await startAdminServer({
    port: 0,
    token: "x".repeat(32),
    faults: kit.faults,
    flush: async () => {},
    telemetry: () => ({}),
    finalMetrics: async () => "",
  });
  kit.onShutdown(() => admin.close());
  const client = new AdminClient(`http://127.0.0.1:${admin.port}`, "x".repeat(32));
  const mesh = { services: { payments: { admin: client } } } as unknown as StartedMesh;
  return { kit, client, journal: new FaultJournal(mesh, sampleTopology({}, { admin: ["payments"] })) };
}

const plan = (kind: string, target: string, params: Record<string, unknown>) =>
  ({ kind, target, atMs: 0, durationMs: 1_000, params }) as FaultSpec;

describe("service faults through the admin API", () => {
  test("resource faults target a service, go through the admin API with their params, are journaled and reverted", async () => {
    const { kit, client, journal } = await meshOfOne();
    try {
      const memory = await journal.apply(plan("memory", "payments", { mb: 1 }));
      const stall = await journal.apply(plan("stall", "payments", { blockMs: 1, everyMs: 1_000 }));
      const cpu = await journal.apply(plan("cpu", "payments", { fraction: 0.05 }));
      const error = await journal.apply(plan("error", "payments.Charge", { rate: 0.5, grpcCode: "UNAVAILABLE" }));
      expect(await client.listFaults()).toEqual([
        { kind: "memory", mb: 1, id: "f1" },
        { kind: "stall", blockMs: 1, everyMs: 1_000, id: "f2" },
        { kind: "cpu", fraction: 0.05, id: "f3" },
        { kind: "error", target: "Charge", rate: 0.5, code: "UNAVAILABLE", id: "f4" },
      ]);
      expect(journal.records.map((r) => [r.id, r.kind, r.target, r.params])).toEqual([
        ["fault-1", "memory", "payments", { mb: 1 }],
        ["fault-2", "stall", "payments", { blockMs: 1, everyMs: 1_000 }],
        ["fault-3", "cpu", "payments", { fraction: 0.05 }],
        ["fault-4", "error", "payments.Charge", { rate: 0.5, grpcCode: "UNAVAILABLE" }],
      ]);
      await cpu.revert();
      expect((await client.listFaults()).map((f) => f.id)).toEqual(["f1", "f2", "f4"]);
      await journal.revertAll();
      expect(await client.listFaults()).toEqual([]);
      for (const active of [memory, stall, cpu, error]) {
        expect(active.record.revertedAtMs).toBeGreaterThanOrEqual(active.record.appliedAtMs);
        expect(active.record.revertError).toBeUndefined();
      }
    } finally {
      await shutdown(kit);
    }
  });

  test("a resource fault names a service, not a method; the service's 400 names the bad param", async () => {
    const { kit, journal } = await meshOfOne();
    try {
      expect(() => journal.validate(plan("memory", "payments.Charge", { mb: 1 }))).toThrow(ConfigError);
      expect(() => journal.validate(plan("cpu", "billing", { fraction: 0.5 }))).toThrow(
        /cpu fault target "billing" must be "<service>" \(a resource fault names no method or route\) with a service of the mesh \(payments\)/,
      );
      expect(() => journal.validate(plan("stall", "payments", { blockMs: 10, everyMs: 100 }))).not.toThrow();
      await expect(journal.apply(plan("memory", "payments", { mb: 0 }))).rejects.toThrow(
        /answered 400: .*invalid fault: mb: /,
      );
      await expect(journal.apply(plan("stall", "payments", { blockMs: 100, everyMs: 50 }))).rejects.toThrow(
        /everyMs: must be > blockMs \(got everyMs 50, blockMs 100\)/,
      );
    } finally {
      await shutdown(kit);
    }
  });
});
