import { assertProbes, PROBE_ASSERTIONS } from "../../../assertions/probe-assertions";
import { RunView } from "../../../assertions/run-view";
import type { ProbeRecord } from "../../../assertions/evidence";
import type { SavedScenario } from "../../../harness/report/evidence-file";
import { scenarioFixture } from "../../support/evidence-fixture";

const judge = (s: SavedScenario, probes = s.expectations.probes) =>
  assertProbes(new RunView(s.evidence, { ...s.expectations, probes }));
const flipOf = (s: SavedScenario, probes = s.expectations.probes) =>
  judge(s, probes).find((r) => r.id === PROBE_ASSERTIONS.readinessFlip)!;

describe("assertProbes on the real redis-outage run", () => {
  test("the readiness flip passes within its bound, with the measured latencies", () => {
    const outage = scenarioFixture("redis-outage");
    const results = judge(outage);
    expect(results.filter((r) => r.status === "failed")).toEqual([]);
    const flip = results.find((r) => r.id === PROBE_ASSERTIONS.readinessFlip)!;
    const measured = flip.observed["orders /readyz redis (orders-redis)"] as { flipMs: number; recoverMs: number };
    expect(measured.flipMs).toBeGreaterThanOrEqual(0);
    expect(measured.flipMs).toBeLessThanOrEqual(1_600);
    expect(measured.recoverMs).toBeLessThanOrEqual(1_600);
    expect(flip.message).toContain("1600 ms = check timeout 1000 + poll interval 100 + slack 500");
  });

  test("a bound tighter than the measured flip fails, stating the bound", () => {
    const outage = scenarioFixture("redis-outage");
    const tight = { ...outage.expectations.probes, checkTimeoutMs: 0, pollIntervalMs: 0, slackMs: 0 };
    expect(flipOf(outage, tight).message).toMatch(
      /orders \/readyz answered 503 only after \d+ ms once orders-redis took the fault \(bound 0 ms\)/,
    );
  });

  test("a /readyz that never recovers, or fails without naming the check, fails the flip", () => {
    const stuck = scenarioFixture("redis-outage");
    const reverted = stuck.evidence.faults[0]!.revertedAtMs!;
    for (const p of stuck.evidence.probes)
      if (p.service === "orders" && p.probe === "readyz" && p.atMs >= reverted) p.status = 503;
    expect(flipOf(stuck).message).toContain("orders /readyz returned to 200 never once orders-redis was reverted");

    const unnamed = scenarioFixture("redis-outage");
    for (const p of unnamed.evidence.probes)
      if (p.status === 503 && p.body) p.body.checks = { postgres: { status: "fail", latencyMs: 1 } };
    expect(flipOf(unnamed).message).toContain('answered 503 without a failed "redis" check');
  });

  test("a 503 no fault explains fails baseline-healthy; a failed /healthz fails liveness-stable", () => {
    const run = scenarioFixture("baseline");
    const after = run.evidence.probes.filter((p) => p.atMs > run.evidence.window.startMs);
    after.find((p) => p.service === "inventory" && p.probe === "readyz")!.status = 503;
    Object.assign(
      after.find((p) => p.service === "payments" && p.probe === "healthz")!,
      { status: 0, error: "ECONNREFUSED" },
    );
    const results = judge(run);
    const failed = results.filter((r) => r.status === "failed").map((r) => r.id);
    expect(failed.sort()).toEqual([PROBE_ASSERTIONS.baselineHealthy, PROBE_ASSERTIONS.livenessStable].sort());
    expect(results.find((r) => r.id === PROBE_ASSERTIONS.livenessStable)!.message).toContain(
      "payments /healthz answered nothing (ECONNREFUSED)",
    );
  });

  test("a declared flip judges the way the probe failed: a 503 is not a timeout", () => {
    const outage = scenarioFixture("redis-outage");
    const flips = outage.expectations.probes!.readinessFlips!.map((f) => ({
      ...f,
      check: undefined,
      answer: "timeout" as const,
    }));
    const wrongWay = flipOf(outage, { ...outage.expectations.probes, readinessFlips: flips });
    expect(wrongWay.status).toBe("failed");
    expect(wrongWay.message).toContain("orders /readyz answered timeout never once orders-redis took the fault");

    // The same polls rewritten as deadline misses (a frozen process) pass a flip declared as "timeout".
    const frozen = scenarioFixture("redis-outage");
    for (const p of frozen.evidence.probes)
      if (p.status === 503) Object.assign(p, { status: 0, body: undefined, outcome: "timeout", error: "TimeoutError" });
    expect(flipOf(frozen, { ...frozen.expectations.probes, readinessFlips: flips }).status).toBe("passed");
  });

  test("a /healthz flip is judged by probes.liveness-flip and excused from liveness-stable only where declared", () => {
    const run = scenarioFixture("redis-outage");
    const fault = run.evidence.faults[0]!;
    for (const p of run.evidence.probes)
      if (
        p.service === "orders" &&
        p.probe === "healthz" &&
        p.atMs >= fault.appliedAtMs + 100 &&
        p.atMs < fault.revertedAtMs!
      )
        Object.assign(p, { status: 503 });
    // Undeclared: liveness flipped on a dependency outage, the defect this family exists for.
    expect(judge(run).find((r) => r.id === PROBE_ASSERTIONS.livenessStable)!.status).toBe("failed");
    const declared = {
      ...run.expectations.probes,
      readinessFlips: [
        ...run.expectations.probes!.readinessFlips!,
        { fault: fault.target, service: "orders", probe: "healthz" as const },
      ],
    };
    const results = judge(run, declared);
    expect(results.filter((r) => r.status === "failed")).toEqual([]);
    expect(results.find((r) => r.id === PROBE_ASSERTIONS.livenessFlip)!.observed).toHaveProperty(
      "orders /healthz 503 (orders-redis)",
    );
  });

  test("a poll in flight when the fault took effect (sent before its applied-at, answered after) is explained", () => {
    const outage = scenarioFixture("redis-outage");
    const fault = outage.evidence.faults[0]!;
    const poll = outage.evidence.probes.find(
      (p) => p.service === "orders" && p.probe === "readyz" && p.atMs < fault.appliedAtMs && p.status === 200,
    )!;
    Object.assign(poll, { atMs: fault.appliedAtMs - 7, latencyMs: 25, status: 503 });
    expect(judge(outage).filter((r) => r.status === "failed")).toEqual([]);
    // Answered before the fault was applied: nothing explains it.
    Object.assign(poll, { latencyMs: 5 });
    expect(judge(outage).find((r) => r.id === PROBE_ASSERTIONS.baselineHealthy)!.status).toBe("failed");
  });

  test("a poll the freeze caught unanswered counts as its flip, though sent a few ms before the journal's time", () => {
    // docker pause landed after a /readyz sent 7 ms before the fault's applied-at: it timed out, and the next poll,
    // sent after the timeout, was answered once thawed. Only a timeout can be the fault's: a 503 was answered before.
    const frozen = scenarioFixture("process-freeze");
    const fault = frozen.evidence.faults[0]!;
    const ofTarget = (p: ProbeRecord) => p.service === fault.target && p.probe === "readyz";
    // The caught poll waited out its deadline: no other was sent while the fault held.
    frozen.evidence.probes = frozen.evidence.probes.filter(
      (p) => !ofTarget(p) || p.atMs < fault.appliedAtMs || p.atMs > fault.revertStartedAtMs!,
    );
    const caught = frozen.evidence.probes.filter((p) => ofTarget(p) && p.atMs < fault.appliedAtMs).at(-1)!;
    Object.assign(caught, {
      atMs: fault.appliedAtMs - 7,
      latencyMs: 1_500,
      status: 0,
      outcome: "timeout",
      error: "The operation was aborted due to timeout",
    });
    expect(flipOf(frozen).status).toBe("passed");
    Object.assign(caught, { status: 503, outcome: "answered", error: undefined, latencyMs: 5 });
    expect(flipOf(frozen).message).toContain(`${fault.target} /readyz answered timeout never once`);
  });

  test("without the expected flip, the outage itself is a baseline failure", () => {
    const outage = scenarioFixture("redis-outage");
    const results = judge(outage, {});
    expect(results.find((r) => r.id === PROBE_ASSERTIONS.baselineHealthy)!.status).toBe("failed");
  });
});
