import { runChecks } from "../../../services/lib";
import { makeKit, shutdown } from "./kit-fixtures";

describe("probes", () => {
  test("a failing and a hanging dependency make the probe 503 and are named, the healthy one stays ok", async () => {
    const result = await runChecks(
      {
        redis: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
        },
        payments: () => new Promise<void>(() => {}),
        inventory: async () => {},
      },
      100,
    );
    expect(result.httpStatus).toBe(503);
    expect(result.body.status).toBe("fail");
    expect(result.body.checks.redis).toMatchObject({ status: "fail", error: "connect ECONNREFUSED 127.0.0.1:6379" });
    expect(result.body.checks.payments).toMatchObject({ status: "fail", error: "timed out after 100 ms" });
    expect(result.body.checks.payments!.latencyMs).toBeGreaterThanOrEqual(95);
    expect(result.body.checks.inventory).toMatchObject({ status: "ok" });
  });

  test("all checks ok: 200; liveness checks only local state; a draining service is not ready", async () => {
    const kit = makeKit();
    try {
      kit.readiness.dep = async () => {};
      expect(await kit.readyz()).toMatchObject({
        httpStatus: 200,
        body: { status: "ok", checks: { dep: { status: "ok" } } },
      });
      const live = await kit.healthz();
      expect(live.httpStatus).toBe(200);
      expect(Object.keys(live.body.checks).sort()).toEqual(["eventLoop", "heap"]);
      kit.draining = true;
      expect(await kit.readyz()).toMatchObject({ httpStatus: 503, body: { checks: { draining: { status: "fail" } } } });
    } finally {
      await shutdown(kit);
    }
  });
});
