import { evaluate } from "../../../assertions/evaluate";
import { meshproofMatchers } from "../../../assertions/matchers";
import baseline from "../../../scenarios/baseline";
import paymentsErrors from "../../../scenarios/payments-errors";
import { paymentsErrorsRun } from "../../fixtures/fault-runs";
import { buildEvidence } from "../../fixtures/mesh-evidence";

expect.extend(meshproofMatchers);

describe("evaluate", () => {
  it("runs the families the baseline scenario asks for, and they pass on a healthy run", () => {
    const results = evaluate(buildEvidence(), baseline.expectations);
    expect(results).toPassAssertions();
    expect([...new Set(results.map((r) => r.family))]).toEqual(["traces", "runtime", "hygiene", "probes"]);
  });

  it("judges the payments-errors scenario's expectations against a run that matches them", () => {
    const results = evaluate(paymentsErrorsRun(), paymentsErrors.expectations);
    expect(results).toPassAssertions();
    expect(results.map((r) => r.id)).toEqual(
      expect.arrayContaining(["traces.error-path", "metrics.status-labels", "metrics.error-rate"]),
    );
  });

  it("catches dropped context (drop-context) in the payments-errors run by id", () => {
    const evidence = paymentsErrorsRun();
    const trace = evidence.traces[evidence.requests[0]!.traceId]!;
    trace.spans = trace.spans.filter((s) => s.service === "gateway");
    const results = evaluate(evidence, paymentsErrors.expectations);
    expect(results).toFailAssertion("traces.hop-graph");
    expect(results).toFailAssertion("traces.client-server-pairs");
  });
});
