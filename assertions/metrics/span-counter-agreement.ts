import type { AssertionResult } from "../evidence";
import { disagreements, nonZero, sum } from "../metric-query";
import { endpointKey, leftOutReason, tallySpans, type Endpoint, type MetricView } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import type { RequestView, RunView } from "../run-view";
import { isErrorCode } from "./codes";
import { METRIC_ASSERTIONS } from "./ids";

/**
 * The calls at an endpoint whose spans the traces cannot hold: those the unsampled requests can have made, and those
 * whose spans at the endpoint's service may have died unexported with it (a kill), by their routes' hops (an upper
 * bound: a failed request made only the calls up to where it failed), all of them and those of failed requests.
 */
function untracedCalls(view: RunView, e: Endpoint): { any: number; failing: number } {
  let any = 0;
  let failing = 0;
  for (const r of view.requests) {
    if (r.sampled && !r.unexported.has(e.service.name)) continue;
    const calls = callsAt(view, r, e);
    any += calls;
    if (!r.success) failing += calls;
  }
  return { any, failing };
}

/** The calls at an endpoint made by requests its service's counters may miss (RequestView.uncounted). */
function uncountedCalls(view: RunView, e: Endpoint): number {
  return sum(view.requests.filter((r) => r.uncounted.has(e.service.name)).map((r) => callsAt(view, r, e)));
}

/** The calls a request's route makes at an endpoint (the edge's server call included). */
function callsAt(view: RunView, r: RequestView, e: Endpoint): number {
  const atEdge = e.side === "server" && e.protocol === "http" && e.service.name === view.edge?.name ? 1 : 0;
  return (
    atEdge +
    r.hops.filter((h) => h.protocol === e.protocol && (e.side === "client" ? h.from : h.to) === e.service.name).length
  );
}

/**
 * Spans and counters agree per endpoint, operation and code: the trace side of the three-way reconciliation. With
 * calls the traces cannot hold at an endpoint (unsampled requests', spans that died with a killed process) the spans
 * record a subset: spans <= counter per operation and code, and the counter holds no more than the spans plus those
 * calls (an error code: of those that failed). Endpoints without a counter to compare (no /metrics, none in the
 * contract, peers named by address) are left out; with none left, not promised.
 */
export function spanCounterAgreement(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const spans = tallySpans(metrics).counts;
  const { endpoints, leftOut } = metrics.judgeable(["counter", "peers"]);
  if (endpoints.length === 0 && Object.keys(leftOut).length)
    return notPromised(
      METRIC_ASSERTIONS.spanCounterAgreement,
      "metrics",
      leftOutReason("no endpoint the planned routes cross has a counter to compare with its spans", leftOut),
      { leftOut },
    );
  const observed: Record<string, unknown> = Object.keys(leftOut).length ? { leftOut } : {};
  let compared = 0;
  const untraced = view.requests.filter((r) => !r.sampled || r.unexported.size).length;
  for (const e of endpoints) {
    const key = endpointKey(e);
    const counted = metrics.counterTally(e);
    const traced = spans.get(key) ?? new Map<string, number>();
    observed[key] = { spans: nonZero(traced), counter: nonZero(counted) };
    if (sum(traced.values()) === 0 && sum(counted.values()) === 0) {
      findings.add({ detail: `${key}: neither a span nor a counted call, but the plan's routes cross it` });
      continue;
    }
    compared++;
    const name = metrics.counter(e)!.name;
    const most = untracedCalls(view, e);
    // Calls under way between an outside read of a stopping service's counters and its stop may have a span but
    // no count.
    const uncounted = uncountedCalls(view, e);
    for (const d of disagreements(traced, counted))
      if (d.a > d.b + uncounted || (most.any === 0 && d.b > d.a))
        findings.add({
          detail: `${key} ${d.key}: ${d.a} span(s) but ${name} rose by ${d.b}${uncounted ? ` (${uncounted} call(s) may be uncounted)` : ""}`,
          expected: `${d.a} (its spans)${uncounted ? `, ${uncounted} fewer allowed` : ""}`,
          observed: `${d.b}`,
          on: `${key} ${name} ${d.key.replace(/\|/g, " ")}`,
          service: e.service.name,
          side: e.side,
        });
    if (most.any === 0) continue;
    const [spanTotal, counterTotal] = [sum(traced.values()), sum(counted.values())];
    if (counterTotal > spanTotal + most.any)
      findings.add({
        detail: `${key}: ${name} rose by ${counterTotal}, more than its ${spanTotal} span(s) + ${most.any} call(s) the traces cannot hold (unsampled, or spans lost with a killed process)`,
      });
    for (const [k, n] of counted) {
      const code = k.split("|").at(-1) ?? "";
      if (isErrorCode(e.protocol, code) && n > (traced.get(k) ?? 0) + most.failing)
        findings.add({
          detail: `${key} ${k}: ${name} rose by ${n}, more than its ${traced.get(k) ?? 0} span(s) + ${most.failing} call(s) of failed requests the traces cannot hold`,
        });
    }
  }
  return verdict(
    METRIC_ASSERTIONS.spanCounterAgreement,
    "metrics",
    findings,
    {
      passed: `spans and counters agree per operation and code on every endpoint${untraced ? ` (${untraced} requests unsampled or with spans lost with a killed process: spans <= counters where they call)` : ""}`,
      failed: "spans and counters disagree",
    },
    { compared, minimum: endpoints.length, what: "endpoints", because: "the endpoints the planned routes cross" },
    { agreement: "spans by status-code attribute == counter delta by code label" },
    observed,
  );
}
