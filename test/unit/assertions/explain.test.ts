import type { AssertionResult } from "../../../assertions/evidence";
import { EXPLAIN_RULES, groupFailures, HINTS } from "../../../assertions/explain";
import { Findings, verdict } from "../../../assertions/result";
import { CORRELATION_ASSERTIONS } from "../../../assertions/correlation-assertions";
import { HYGIENE_ASSERTIONS } from "../../../assertions/hygiene/ids";
import { METRIC_ASSERTIONS } from "../../../assertions/metrics/ids";
import { PROBE_ASSERTIONS } from "../../../assertions/probe-assertions";
import { RUNTIME_ASSERTIONS } from "../../../assertions/runtime/ids";
import { TRACE_ASSERTIONS } from "../../../assertions/trace-assertions";

/** A failed assertion whose findings are about `services` in `traces`. */
function failed(id: string, services: string[], traceIds: string[] = []): AssertionResult {
  return {
    id,
    family: id.split(".")[0] as AssertionResult["family"],
    status: "failed",
    message: `${id} failed`,
    expected: {},
    observed: { compared: 1 },
    evidence: { services, traceIds },
  };
}

type Rule = (typeof EXPLAIN_RULES)[number];
/** traces.span-pipeline's observation of a service whose exporter dropped spans. */
const dropped = (a: AssertionResult): AssertionResult => ({
  ...a,
  observed: { ...a.observed, payments: { sdk: { ended: 10, exported: 4 } } },
});
const about = (rule: Rule, service: string) => (rule.link === "service" ? service : `${service} ${rule.link}`);
const linked = (rule: Rule, id: string) =>
  rule.link === "trace" ? failed(id, [], ["t1"]) : failed(id, [about(rule, "payments")]);
// Another service, another side of the same one, or other traces.
const unlinked = (rule: Rule, id: string) =>
  rule.link === "trace"
    ? failed(id, [], ["t2"])
    : failed(id, [
        about(rule, "inventory"),
        ...(rule.link === "service" ? [] : [`payments ${rule.link === "server" ? "client" : "server"}`]),
      ]);

describe("grouping failures: the one that explains the others first", () => {
  test.each(EXPLAIN_RULES.map((r) => [`${r.cause} explains ${r.consequence} (${r.link})`, r] as const))(
    "%s",
    (_, rule) => {
      // With evidence that meets the rule's further condition, if it has one (an exporter that dropped spans, or not).
      const [cause, consequence] = [dropped, (a: AssertionResult) => a]
        .flatMap((c) =>
          [dropped, (a: AssertionResult) => a].map((q) => [
            c(linked(rule, rule.cause)),
            q(linked(rule, rule.consequence)),
          ]),
        )
        .find(([c, q]) => rule.when?.(c!, q!) ?? true)!;
      // Judged in family order the consequence may come first; grouped, the cause leads with it nested.
      expect(groupFailures([consequence!, cause!])).toEqual([
        { cause, consequences: [{ assertion: consequence, why: rule.why }] },
      ]);
      // About another service, or in other traces, it explains nothing: two groups of their own.
      const apart = unlinked(rule, rule.consequence);
      expect(groupFailures([apart, cause!]).map((g) => [g.cause.id, g.consequences.length])).toEqual([
        [rule.consequence, 0],
        [rule.cause, 0],
      ]);
      // A passed cause explains nothing.
      expect(groupFailures([consequence!, { ...cause!, status: "passed" }])).toEqual([
        { cause: consequence, consequences: [] },
      ]);
    },
  );

  test("a chain nests under its root, groups with consequences come first, a rule never makes a cycle", () => {
    const series = failed("hygiene.contract-series", ["payments"]);
    const labels = failed("metrics.status-labels", ["payments", "payments server"]);
    const hops = failed("metrics.hop-agreement", ["payments", "payments server", "orders client"]);
    const alone = failed("probes.readiness-flip", ["orders"]);
    const groups = groupFailures([alone, hops, labels, series]);
    expect(groups.map((g) => [g.cause.id, g.consequences.map((c) => c.assertion.id)])).toEqual([
      ["hygiene.contract-series", ["metrics.hop-agreement", "metrics.status-labels"]],
      ["probes.readiness-flip", []],
    ]);
    // Opposite rules exist only on opposite sides (a server's mislabel explains the hop, a client's the labels) or
    // under conditions of their own (the exporter dropped spans, or not).
    for (const rule of EXPLAIN_RULES)
      expect(
        EXPLAIN_RULES.some(
          (r) =>
            r.cause === rule.consequence &&
            r.consequence === rule.cause &&
            r.link === rule.link &&
            !(r.when && rule.when),
        ),
      ).toBe(false);
  });

  test("every assertion id has a hint, and every rule names known ids", () => {
    const ids = [
      TRACE_ASSERTIONS,
      METRIC_ASSERTIONS,
      PROBE_ASSERTIONS,
      RUNTIME_ASSERTIONS,
      HYGIENE_ASSERTIONS,
      CORRELATION_ASSERTIONS,
    ].flatMap((family) => Object.values(family) as string[]);
    expect(ids.filter((id) => !HINTS[id])).toEqual([]);
    expect(Object.keys(HINTS).filter((id) => !ids.includes(id))).toEqual([]);
    for (const rule of EXPLAIN_RULES)
      expect([ids.includes(rule.cause), ids.includes(rule.consequence)]).toEqual([true, true]);
  });
});

describe("a failed assertion's headline", () => {
  const coverage = { compared: 10, minimum: 1, what: "calls", because: "the plan" };
  test("expected X, observed Y, on Z from the first finding that compared values, with how many more", () => {
    const findings = new Findings();
    findings.add({ detail: "a finding without figures" });
    findings.add({
      detail: "payments rose by 0 on UNAVAILABLE",
      expected: "8 on UNAVAILABLE",
      observed: "0 (by code: OK 8)",
      on: "payments grpc server grpc_server_handled_total",
      service: "payments",
    });
    const result = verdict(
      "metrics.status-labels",
      "metrics",
      findings,
      { passed: "", failed: "wrong" },
      coverage,
      {},
      {},
    );
    expect(result.headline).toBe(
      "expected 8 on UNAVAILABLE, observed 0 (by code: OK 8), on payments grpc server grpc_server_handled_total (and 1 more)",
    );
    expect(result.evidence?.services).toEqual(["payments"]);
  });
  test("a finding told in words is the headline as told; nothing compared says so first", () => {
    const findings = new Findings();
    findings.add({ detail: "orders' /readyz stayed 200" });
    expect(verdict("x.y", "probes", findings, { passed: "", failed: "" }, coverage, {}, {}).headline).toBe(
      "orders' /readyz stayed 200",
    );
    const none = verdict(
      "x.y",
      "probes",
      new Findings(),
      { passed: "", failed: "" },
      { ...coverage, compared: 0 },
      {},
      {},
    );
    expect(none.headline).toBe("compared 0 calls, expected at least 1 (the plan)");
  });

  test("which counter is wrong decides the cause: a server's mislabel explains the hop, a client's misses the labels", () => {
    // status-label-200: payments' server counter says OK; the hop (payments server vs orders client) disagrees.
    const serverLabels = failed("metrics.status-labels", ["payments", "payments server"]);
    const hop = failed("metrics.hop-agreement", ["payments", "payments server", "orders", "orders client"]);
    expect(groupFailures([hop, serverLabels]).map((g) => [g.cause.id, g.consequences.length])).toEqual([
      ["metrics.status-labels", 1],
    ]);
    // client-counter-ok-only: orders' client counter misses the failures; its layer's labels are short for that.
    const clientLabels = failed("metrics.status-labels", ["orders", "orders client"]);
    expect(groupFailures([hop, clientLabels]).map((g) => [g.cause.id, g.consequences.length])).toEqual([
      ["metrics.hop-agreement", 1],
    ]);
  });

  test("an exporter that dropped spans explains the missing hops; a lost context explains the pipeline's count", () => {
    const pipeline = failed("traces.span-pipeline", ["orders"]);
    const hops = failed("traces.hop-graph", ["orders"], ["t1"]);
    expect(groupFailures([hops, dropped(pipeline)])[0]!.cause.id).toBe("traces.span-pipeline");
    expect(groupFailures([hops, pipeline])[0]!.cause.id).toBe("traces.hop-graph");
  });
});
