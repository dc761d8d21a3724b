import { evaluate } from "../../../assertions/evaluate";
import type { AssertionFamily } from "../../../assertions/evidence";
import { ALL_FAMILIES } from "../../../assertions/expectations";
import { catalogFixture, emptied, scenarioFixture } from "../../support/evidence-fixture";

describe("the judge on a real catalog run", () => {
  test.each(catalogFixture().map((s) => [s.name]))("%s: every assertion passes and says what it compared", (name) => {
    const { evidence, expectations } = scenarioFixture(name);
    const results = evaluate(evidence, expectations);
    expect(results.filter((r) => r.status === "failed").map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(new Set(results.map((r) => r.family))).toEqual(new Set(ALL_FAMILIES));
    for (const r of results) {
      expect(r.observed.compared).toBeGreaterThan(0);
      expect(r.message).toContain(`compared ${r.observed.compared} `);
    }
  });
});

describe("no pass over nothing", () => {
  const families = ALL_FAMILIES.map((f) => [f]) as [AssertionFamily][];

  test.each(families)("family %s: every assertion fails on empty evidence, naming what it expected", (family) => {
    for (const scenario of catalogFixture()) {
      const evidence = emptied(scenario.evidence);
      const results = evaluate(evidence, { ...scenario.expectations, families: [family] });
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) {
        expect({ id: r.id, status: r.status }).toEqual({ id: r.id, status: "failed" });
        expect(r.message).toMatch(/compared 0 .*expected at least \d+/);
      }
    }
  });

  test("a run whose driver sent nothing fails even with the rest of its evidence intact", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    const results = evaluate({ ...evidence, requests: [] }, expectations);
    const failed = results.filter((r) => r.status === "failed").map((r) => r.id);
    expect(failed).toEqual(
      expect.arrayContaining(["traces.complete", "metrics.unexplained-failures", "metrics.edge-status-counts"]),
    );
    expect(results.find((r) => r.id === "traces.complete")!.message).toContain(
      `compared 0 requests, expected at least ${evidence.plan.requests} (the plan's ${evidence.plan.requests} requests)`,
    );
  });

  test("a hop the topology names with no series on either side fails hop agreement", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    const payments = evidence.services.find((s) => s.name === "payments")!;
    const orders = evidence.services.find((s) => s.name === "orders")!;
    const silent = (s: { name: string; labels: Record<string, string> }) =>
      (s.labels.instance === payments.instance && s.name.startsWith("grpc_server")) ||
      (s.labels.instance === orders.instance && s.name.startsWith("grpc_client") && s.labels.grpc_method === "Charge");
    evidence.metrics.start = evidence.metrics.start.filter((s) => !silent(s));
    evidence.metrics.end = evidence.metrics.end.filter((s) => !silent(s));
    const hop = evaluate(evidence, expectations).find((r) => r.id === "metrics.hop-agreement")!;
    expect(hop.status).toBe("failed");
    expect(hop.message).toContain("orders -> payments (grpc): no call counted on either side");
  });
});
