import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { evaluate } from "../../../assertions/evaluate";
import { TraceCache } from "../../../assertions/run-view";
import { runMutations } from "../../../harness/mutate/engine";
import { OPERATORS } from "../../../harness/mutate/operators";
import { capJobsByMemory, mutateInWorkers, workerAllowanceBytes } from "../../../harness/mutate/pool";
import { writeEvidenceFile } from "../../../harness/report/evidence-file";
import { createRng } from "../../../harness/util/rng";
import { catalogFixture, scenarioFixture } from "../../support/evidence-fixture";
import { knownMarginSurvivor } from "../../support/margin-survivors";
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

  test("each mutant is killed by the assertion id its operator targets (known margin survivors aside)", () => {
    // The known margin survivors are held to the table by margin-mutants.test.ts: no other mutant may survive.
    const missed = results
      .filter(
        (r) => !r.targetKilled && !(r.scope === "margin" && knownMarginSurvivor(r.operator, r.scenario, r.change)),
      )
      .map((r) => `${r.scenario} ${r.operator}: ${r.change} -> ${r.killedBy.join(", ") || "survived"}`);
    expect(missed).toEqual([]);
  });
});

describe("judging mutants fast", () => {
  const scenarios = ["baseline", "payments-errors", "process-kill"];

  test("no operator changes the evidence it is given", () => {
    for (const name of scenarios) {
      const { evidence, expectations } = scenarioFixture(name);
      const before = JSON.stringify(evidence);
      for (const operator of OPERATORS) operator.apply(evidence, createRng(7), expectations);
      expect({ name, same: JSON.stringify(evidence) === before }).toEqual({ name, same: true });
    }
  });

  test("a TraceCache shared by every mutant of a run changes no judgement", () => {
    for (const name of scenarios) {
      const { evidence, expectations } = scenarioFixture(name);
      const cache = new TraceCache();
      const judged = (e: typeof evidence, c?: TraceCache) =>
        evaluate(e, expectations, c).map((r) => `${r.id} ${r.status}: ${r.message}`);
      expect(judged(evidence, cache)).toEqual(judged(evidence));
      for (const operator of OPERATORS) {
        const mutant = operator.apply(evidence, createRng(3), expectations);
        if (mutant) expect(judged(mutant.evidence, cache)).toEqual(judged(mutant.evidence));
      }
      expect(judged(evidence, cache)).toEqual(judged(evidence));
    }
  });

  test("worker threads judge the same mutants as one thread, in the same order", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-mutate-"));
    try {
      const fixture = catalogFixture().filter((s) => scenarios.includes(s.name));
      const { file } = writeEvidenceFile(dir, { version: 1, runId: "fixture", seed: 1, scenarios: fixture });
      const one = runMutations(fixture, { perOperator: 1, seed: 5 });
      const pooled = await mutateInWorkers(file, { perOperator: 1, seed: 5, jobs: 2 });
      expect(pooled.scenarios).toBe(scenarios.length);
      expect(pooled.results.length).toBeGreaterThan(100);
      expect(pooled.results).toEqual(one.results);
      expect({ ...pooled.report, wallMs: 0 }).toEqual({ ...one.report, wallMs: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an evidence file that is not there is a setup error naming it and the command that writes it", async () => {
    await expect(
      mutateInWorkers("/nonexistent/evidence.json.gz", { perOperator: 1, seed: 1, jobs: 2 }),
    ).rejects.toThrow(/\/nonexistent\/evidence\.json\.gz does not exist: run "npm run scenario" first/);
  });
});

describe("mutation workers capped by free memory", () => {
  const MB = 2 ** 20;

  test("a worker is allowed 8x the evidence file, and at least 256 MB", () => {
    expect(workerAllowanceBytes(38 * MB)).toBe(304 * MB);
    expect(workerAllowanceBytes(1 * MB)).toBe(256 * MB);
  });

  test("the asked count stands when the free memory holds it, without a reason", () => {
    expect(capJobsByMemory(8, 8 * 304 * MB, 304 * MB)).toEqual({ jobs: 8 });
  });

  test("the count is lowered to what the free memory holds, and the reason says the numbers", () => {
    const capped = capJobsByMemory(8, 1000 * MB, 304 * MB);
    expect(capped.jobs).toBe(3);
    expect(capped.reason).toBe("8 worker(s) asked, 3 run: 1000 MB free memory / 304 MB allowed per worker");
  });

  test("never below one worker, however little memory is free", () => {
    expect(capJobsByMemory(4, 10 * MB, 304 * MB).jobs).toBe(1);
  });
});
