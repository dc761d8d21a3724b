import { evaluate } from "../../../assertions/evaluate";
import { METRIC_ASSERTIONS } from "../../../assertions/metrics/ids";
import { scenarioFixture } from "../../support/evidence-fixture";

describe("metrics.latency-shift: calls started while the fault was being applied", () => {
  // An L7 proxy's latency reached the proxy a few ms after the journal's applied-at, and a call that began 1 ms after
  // it was not slowed: between applied-at and in-place a call may or may not meet the fault, and counts on no side.
  function insideCalls(inPlaceAfterMs: number | undefined) {
    const { evidence, expectations } = scenarioFixture("link-latency");
    const fault = evidence.faults[0]!;
    if (inPlaceAfterMs !== undefined) fault.inPlaceAtMs = fault.appliedAtMs + inPlaceAfterMs;
    const result = evaluate(evidence, expectations).find((a) => a.id === METRIC_ASSERTIONS.latencyShift)!;
    const [judged] = Object.values(result.observed).filter(
      (v): v is { inside: { calls: number } } => typeof v === "object" && v !== null && "inside" in v,
    );
    return { status: result.status, inside: judged!.inside.calls };
  }

  test("without an in-place time the window starts at applied-at; with one, at in-place", () => {
    const whole = insideCalls(undefined);
    expect(whole.status).toBe("passed");
    expect(whole.inside).toBeGreaterThan(2);
    // A window starting later holds fewer calls; the same calls when it is in place at once.
    expect(insideCalls(0).inside).toBe(whole.inside);
    const later = insideCalls(1_000);
    expect(later.inside).toBeLessThan(whole.inside);
    expect(later.status).toBe("passed");
  });
});
