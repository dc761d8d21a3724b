import { runMutations } from "../../../harness/mutate/engine";
import { OPERATORS } from "../../../harness/mutate/operators";
import { catalogFixture } from "../../support/evidence-fixture";

describe("evidence mutation testing on a real catalog run", () => {
  const { report, results } = runMutations(catalogFixture(), { perOperator: 2, seed: 1 });

  test("at least 20 operators across every family", () => {
    expect(OPERATORS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(OPERATORS.map((o) => o.family))).toEqual(
      new Set(["traces", "metrics", "probes", "runtime", "hygiene", "correlation"]),
    );
  });

  test("the kill rate is >= 95% and every operator produced mutants", () => {
    expect(report.skipped).toEqual([]);
    expect(report.killRate).toBeGreaterThanOrEqual(0.95);
    const idle = Object.entries(report.byOperator)
      .filter(([, t]) => t.mutants === 0)
      .map(([name]) => name);
    expect(idle).toEqual([]);
  });

  test("each mutant is killed by the assertion id its operator targets", () => {
    const missed = results
      .filter((r) => !r.targetKilled)
      .map((r) => `${r.scenario} ${r.operator}: ${r.change} -> ${r.killedBy.join(", ") || "survived"}`);
    expect(missed).toEqual([]);
  });
});
