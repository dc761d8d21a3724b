import { FAULT_KINDS, FAULTS } from "../../../assertions/faults";
import type { FaultInjector } from "../../../harness/faults/injector";
import { INJECTORS } from "../../../harness/faults/registry";
import { scenarioSchema } from "../../../scenarios/lib/schema";

describe("one home per fault kind", () => {
  test("every kind has a descriptor (schema, site, effect, measure) and an injector, and nothing else has either", () => {
    expect(Object.keys(INJECTORS).sort()).toEqual([...FAULT_KINDS].sort());
    expect(FAULT_KINDS.length).toBeGreaterThanOrEqual(14);
    for (const kind of FAULT_KINDS) {
      const d = FAULTS[kind];
      expect([kind, d.kind]).toEqual([kind, kind]);
      expect(["method", "service", "process", "link", "edge"]).toContain(d.site);
      expect(typeof d.measure).toBe("function");
      expect(typeof d.params.safeParse).toBe("function");
      expect([kind, INJECTORS[kind].length > 0]).toEqual([kind, true]);
      for (const injector of INJECTORS[kind] as readonly FaultInjector<typeof kind>[])
        expect([kind, typeof injector.apply, typeof injector.validate, typeof injector.whyNot]).toEqual([
          kind,
          "function",
          "function",
          "function",
        ]);
    }
  });

  test("the scenario schema takes each kind's params from its descriptor: a bad param is refused by its key", () => {
    const scenario = (fault: Record<string, unknown>) => ({
      name: "x",
      description: "x",
      load: { ratePerSec: 1, durationMs: 1_000, warmupMs: 0, routes: [{ route: "GET /a", weight: 1 }] },
      faults: [{ atMs: 0, durationMs: 500, ...fault }],
      expectations: { families: ["traces"], topology: { "GET /a": [{ from: "a", to: "b", protocol: "http" }] } },
    });
    const issues = (fault: Record<string, unknown>) =>
      scenarioSchema.safeParse(scenario(fault)).error?.issues.map((i) => i.path.join(".")) ?? [];
    expect(issues({ kind: "link-latency", target: "gateway-orders", params: { ms: -1 } })).toContain(
      "faults.0.params.ms",
    );
    expect(issues({ kind: "cpu", target: "payments", params: { fraction: 2 } })).toContain("faults.0.params.fraction");
    expect(issues({ kind: "error", target: "payments.Charge", params: { rate: 0.5 } })).toContain("faults.0.params");
    expect(issues({ kind: "link-latency", target: "gateway-orders", params: { ms: 10 } })).toEqual([]);
  });
});
