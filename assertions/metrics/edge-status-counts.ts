import type { AssertionResult } from "../evidence";
import { disagreements, nonZero, sum } from "../metric-query";
import type { Endpoint, MetricView, Tally } from "../metric-view";
import { Findings, verdict } from "../result";
import type { RequestView } from "../run-view";
import { METRIC_ASSERTIONS } from "./ids";

function driverTally(requests: readonly RequestView[]): Tally {
  const out: Tally = new Map();
  for (const { request } of requests)
    if (request.status !== 0) {
      const key = `${request.route}|${request.status}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  return out;
}

/** The edge's server counter rose per route and status exactly as the driver's responses say. */
export function edgeStatusCounts(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const driver = driverTally(view.requests);
  let counted: Tally = new Map();
  const edge = view.edge;
  if (!edge) findings.add({ detail: "no service has the edge role" });
  else {
    const e: Endpoint = { service: edge, protocol: "http", side: "server" };
    counted = metrics.counterTally(e);
    compareWithDriver(metrics, e, driver, counted, findings);
  }
  const responses = sum(driver.values());
  const noResponse = view.requests.length - responses;
  const minimum = view.evidence.plan.requests - noResponse;
  return verdict(
    METRIC_ASSERTIONS.edgeStatusCounts,
    "metrics",
    findings,
    {
      passed: `${edge?.name} status counts equal the driver's responses per route and code`,
      failed: `${edge?.name} status counts differ from the driver's`,
    },
    {
      compared: responses,
      minimum,
      what: "responses",
      because: `the plan's requests less ${noResponse} without response`,
    },
    { driver: nonZero(driver), noResponse },
    { counter: nonZero(counted) },
  );
}

/** The edge counter's tally against the driver's, per route and status. */
function compareWithDriver(metrics: MetricView, e: Endpoint, driver: Tally, counted: Tally, findings: Findings): void {
  const { view } = metrics;
  const edge = e.service;
  // A request the driver got no answer for (it gave up, or the connection broke) may be counted by the edge under
  // whatever it answered too late: per route, the counts above the driver's add up to at most those requests.
  const unanswered = new Map<string, number>();
  for (const r of view.requests)
    if (r.request.status === 0) unanswered.set(r.request.route, (unanswered.get(r.request.route) ?? 0) + 1);
  const extra = new Map<string, number>();
  for (const d of disagreements(driver, counted)) {
    const route = d.key.slice(0, d.key.lastIndexOf("|"));
    if (d.b > d.a && (unanswered.get(route) ?? 0) > 0) {
      extra.set(route, (extra.get(route) ?? 0) + d.b - d.a);
      continue;
    }
    const sample = view.requests.find((r) => `${r.request.route}|${r.request.status}` === d.key);
    findings.add({
      detail: `${d.key.replace("|", " ")}: driver saw ${d.a}, ${edge.name} ${metrics.counter(e).name} rose by ${d.b}`,
      traceId: sample?.traceId,
      requestId: sample?.request.id,
    });
  }
  for (const [route, n] of extra)
    if (n > (unanswered.get(route) ?? 0))
      findings.add({
        detail: `${route}: ${edge.name} ${metrics.counter(e).name} counted ${n} more answers than the driver got, and the driver went without an answer only ${unanswered.get(route)} times`,
      });
}
