import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RcaScore } from "../../assertions/rca";
import type { Verdict } from "../../harness/report/verdict";
import { runCli, whyFailed } from "../support/cli";

describe("npm run rca:bench", () => {
  test("two runs of the CPU and memory faults: other targets and intensities, a table beside the baselines", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-rca-bench-"));
    const result = await runCli("harness/cli/rca-bench.js", [
      "cpu-burn",
      "memory-pressure",
      "--runs",
      "2",
      "--report-dir",
      dir,
    ]);
    expect({ code: result.code, stderr: result.code === 0 ? "" : whyFailed(result) }).toEqual({
      code: 0,
      stderr: "",
    });
    expect(result.stderr).toMatch(/^run 1\/2: 2 of 2 scenarios judged/m);
    expect(result.stderr).toMatch(/^run 2\/2: 2 of 2 scenarios judged/m);
    // Each run moved the CPU fault to another service, at another intensity, from the run's own journal.
    const cpu = [1, 2].map((run) => {
      const verdict = JSON.parse(fs.readFileSync(path.join(dir, `run-${run}`, "verdict.json"), "utf8")) as Verdict;
      return verdict.scenarios.find((s) => s.name === `cpu-burn-run${run}`)!.groundTruth.faults[0]!;
    });
    expect(cpu[0]!.target).not.toBe(cpu[1]!.target);
    expect(cpu.map((f) => f.params)).toEqual([{ fraction: 0.25 }, { fraction: 0.5 }]);
    const { runs, score } = JSON.parse(fs.readFileSync(path.join(dir, "rca-bench.json"), "utf8")) as {
      runs: number;
      score: RcaScore;
    };
    expect(runs).toBe(2);
    expect(score.byKind).toEqual({
      cpu: expect.objectContaining({ faults: 2 }),
      memory: expect.objectContaining({ faults: 4 }),
    });
    // Found from runtime windows (no route moves): every memory case and the half-core burn ranked first. A quarter
    // of a core is the detector's floor: the five-run native bench found all five, but in the suite's containers one
    // was missed (1 of 2 full suite runs); such a miss must say why.
    expect(score.byKind.memory).toMatchObject({ faults: 4, ac1: 1 });
    for (const miss of score.misses)
      expect([miss.scenario, miss.reason]).toEqual(["cpu-burn-run1", expect.stringMatching(/no runtime window/)]);
    expect(score.faults - score.misses.length).toBeGreaterThanOrEqual(5);
    expect(score.baselines?.random.byKind.cpu).toEqual({ ac1: 0.25, ac3: 0.75, avg5: 0.7 });
    expect(score.baselines?.ruleBased?.byKind.memory).toBeDefined();
    expect(result.stdout).toMatch(/^kind\s+cases\s+meshproof AC@1 AC@3 Avg@5\s+rule-based\s+random$/m);
    expect(result.stdout).toMatch(/^cpu\s+2\s+(50|100)%\s+(50|100)%\s+(50|100)%/m);
    expect(result.stdout).toMatch(/^all\s+6\s+\d+%\s+\d+%\s+\d+%/m);
    expect(result.stdout).toMatch(new RegExp(`^${score.misses.length} miss\\(es\\)$`, "m"));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
