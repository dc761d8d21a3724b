import type { Expectations } from "../../../assertions/expectations";
import { meshproofMatchers } from "../../../assertions/matchers";
import { assertProbes, PROBE_ASSERTIONS } from "../../../assertions/probe-assertions";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/mesh";
import { redisOutageRun } from "../../fixtures/fault-runs";
import { buildEvidence } from "../../fixtures/mesh-evidence";

expect.extend(meshproofMatchers);

const baseline: Expectations = { families: ["probes"], topology: MESH_TOPOLOGY };
const outage: Expectations = {
  ...baseline,
  probes: { readinessFlips: [{ fault: "orders-redis", service: "orders", check: "redis" }] },
};
const flipOf = (expectations: Expectations, evidence = redisOutageRun()) =>
  assertProbes(evidence, expectations).find((r) => r.id === PROBE_ASSERTIONS.readinessFlip)!;

describe("assertProbes", () => {
  it("passes a fault-free run with every probe 200", () => {
    const results = assertProbes(buildEvidence(), baseline);
    expect(results).toPassAssertions();
    expect(results.map((r) => r.id)).toEqual([PROBE_ASSERTIONS.livenessStable, PROBE_ASSERTIONS.baselineHealthy]);
  });

  it("passes a readiness flip within the bound and reports the measured latencies", () => {
    const results = assertProbes(redisOutageRun(), outage);
    expect(results).toPassAssertions();
    const flip = results.find((r) => r.id === PROBE_ASSERTIONS.readinessFlip)!;
    expect(flip.observed).toEqual({
      "orders redis (orders-redis)": {
        flipMs: expect.any(Number),
        recoverMs: expect.any(Number),
        check: expect.objectContaining({ status: "fail" }),
      },
    });
    const measured = (flip.observed as Record<string, { flipMs: number; recoverMs: number }>)[
      "orders redis (orders-redis)"
    ]!;
    expect(measured.flipMs).toBeGreaterThanOrEqual(300);
    expect(measured.flipMs).toBeLessThan(400);
    expect(flip.message).toContain("1600 ms = check timeout 1000 + poll interval 100 + slack 500");
  });

  it("fails probes.readiness-flip when /readyz flips too late, never recovers, or does not name the check", () => {
    const tight = { ...outage, probes: { ...outage.probes, checkTimeoutMs: 100, slackMs: 0 } };
    expect(flipOf(tight, redisOutageRun(300)).message).toMatch(
      /orders \/readyz turned 503 after 3\d\d ms once orders-redis went down \(bound 200 ms\)/,
    );
    expect(flipOf(outage, redisOutageRun(300, 5_000)).message).toContain(
      "orders /readyz returned to 200 never once orders-redis came back",
    );
    expect(flipOf(outage, redisOutageRun(300, 200, "postgres")).message).toContain(
      'answered 503 without a failed "redis" check',
    );
  });

  it("fails probes.baseline-healthy for a 503 no fault explains, and probes.liveness-stable for a failed /healthz", () => {
    const evidence = redisOutageRun();
    const inventoryReady = evidence.probes.find(
      (p) => p.service === "inventory" && p.probe === "readyz" && p.atMs > evidence.window.startMs,
    )!;
    inventoryReady.status = 503;
    const paymentsLive = evidence.probes.find(
      (p) => p.service === "payments" && p.probe === "healthz" && p.atMs > evidence.window.startMs,
    )!;
    Object.assign(paymentsLive, { status: 0, error: "ECONNREFUSED" });
    const results = assertProbes(evidence, outage);
    expect(results).toFailAssertion(PROBE_ASSERTIONS.baselineHealthy);
    expect(results).toFailAssertion(PROBE_ASSERTIONS.livenessStable);
    expect(results.find((r) => r.id === PROBE_ASSERTIONS.livenessStable)!.message).toContain(
      "payments /healthz answered nothing (ECONNREFUSED)",
    );
    // Without the expected flip, the orders outage itself is a baseline failure.
    expect(assertProbes(redisOutageRun(), baseline)).toFailAssertion(PROBE_ASSERTIONS.baselineHealthy);
  });
});
