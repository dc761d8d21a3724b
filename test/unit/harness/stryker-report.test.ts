import { strykerReport } from "../../../harness/mutate/stryker-report";
import type { MutantResult } from "../../../harness/mutate/engine";

const mutant = (scenario: string, killedBy: string[]): MutantResult => ({
  scenario,
  operator: "drop-span",
  family: "traces",
  change: "dropped span abc",
  killed: killedBy.length > 0,
  killedBy,
  targetKilled: killedBy.includes("traces.complete"),
});

describe("mutants in Stryker's report schema", () => {
  test("killed and survived mutants keep their status, reason and killers; an unknown file stands for itself", () => {
    const report = strykerReport([mutant("baseline", ["traces.complete", "traces.hop-graph"]), mutant("mystery", [])], {
      root: process.cwd(),
      scenarioFiles: { baseline: "scenarios/baseline.ts" },
      breakAt: 80,
    });
    expect(report.thresholds).toEqual({ high: 100, low: 95, break: 80 });
    const baseline = report.files["scenarios/baseline.ts"]!;
    expect(baseline.mutants).toEqual([
      expect.objectContaining({
        id: "1",
        mutatorName: "drop-span",
        status: "Killed",
        killedBy: ["traces.complete", "traces.hop-graph"],
        statusReason: "failed: traces.complete, traces.hop-graph",
      }),
    ]);
    const line = baseline.source.split("\n")[baseline.mutants[0]!.location.start.line - 1];
    expect(line).toContain("expectations");
    // No verdict named its file: the scenario stands for itself, and its mutant survived (a gap).
    const mystery = report.files["scenarios/mystery"]!;
    expect(mystery.mutants).toEqual([
      expect.objectContaining({ id: "2", status: "Survived", killedBy: [], location: expect.any(Object) }),
    ]);
    expect(mystery.source).toMatch(/its file is not known/);
    // The killers are tests of the modules that declare their ids.
    const tests = Object.entries(report.testFiles!).flatMap(([file, t]) => t.tests.map((x) => [file, x.id]));
    expect(tests).toEqual([
      ["assertions/trace-assertions.ts", "traces.complete"],
      ["assertions/trace-assertions.ts", "traces.hop-graph"],
    ]);
  });
});
