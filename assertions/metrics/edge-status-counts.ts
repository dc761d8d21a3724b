import type { AssertionResult } from "../evidence";
import { disagreements, nonZero, sum } from "../metric-query";
import type { Endpoint, MetricView, Tally } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import type { RequestView } from "../run-view";
import { METRIC_ASSERTIONS } from "./ids";

/** A driver's request keyed as the edge counter's series: "route|status", both in the counter's form. */
type DriverKey = (request: RequestView["request"]) => string;

function driverTally(requests: readonly RequestView[], key: DriverKey): Tally {
  const out: Tally = new Map();
  for (const { request } of requests)
    if (request.status !== 0) {
      const k = key(request);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  return out;
}

/**
 * The edge's server counter rose per route and status exactly as the driver's responses say (routes and codes in the
 * counter's form: the route alone without a method label, classes where it labels classes). Not promised when the
 * edge exposes no counter.
 */
export function edgeStatusCounts(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const edge = view.edge;
  const e: Endpoint | undefined = edge && { service: edge, protocol: "http", side: "server" };
  const why = e && metrics.unjudgeable(e, ["counter"]);
  if (why) return notPromised(METRIC_ASSERTIONS.edgeStatusCounts, "metrics", `the edge's counter: ${why}`);
  const key: DriverKey = e
    ? (r) => `${metrics.operation(e, r.route)}|${metrics.code(e, String(r.status))}`
    : (r) => `${r.route}|${r.status}`;
  const driver = driverTally(view.requests, key);
  let counted: Tally = new Map();
  if (!e) findings.add({ detail: "no service has the edge role" });
  else {
    counted = metrics.counterTally(e);
    compareWithDriver(metrics, e, { driver, key }, counted, findings);
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
function compareWithDriver(
  metrics: MetricView,
  e: Endpoint,
  { driver, key }: { driver: Tally; key: DriverKey },
  counted: Tally,
  findings: Findings,
): void {
  const { view } = metrics;
  const edge = e.service;
  const counter = metrics.counter(e)!.name;
  // A request the driver got no answer for (it gave up, or the connection broke) may be counted by the edge under
  // whatever it answered too late: per route, the counts above the driver's add up to at most those requests.
  const unanswered = new Map<string, number>();
  for (const r of view.requests)
    if (r.request.status === 0) {
      const route = metrics.operation(e, r.request.route);
      unanswered.set(route, (unanswered.get(route) ?? 0) + 1);
    }
  const extra = new Map<string, number>();
  for (const d of disagreements(driver, counted)) {
    const route = d.key.slice(0, d.key.lastIndexOf("|"));
    if (d.b > d.a && (unanswered.get(route) ?? 0) > 0) {
      extra.set(route, (extra.get(route) ?? 0) + d.b - d.a);
      continue;
    }
    const sample = view.requests.find((r) => key(r.request) === d.key);
    findings.add({
      detail: `${d.key.replace("|", " ")}: driver saw ${d.a}, ${edge.name} ${counter} rose by ${d.b}`,
      traceId: sample?.traceId,
      requestId: sample?.request.id,
      expected: `${d.a} (the driver's)`,
      observed: `${d.b}`,
      on: `${edge.name} ${counter} ${d.key.replace("|", " ")}`,
      service: edge.name,
      side: "server",
    });
  }
  for (const [route, n] of extra)
    if (n > (unanswered.get(route) ?? 0))
      findings.add({
        detail: `${route}: ${edge.name} ${counter} counted ${n} more answers than the driver got, and the driver went without an answer only ${unanswered.get(route)} times`,
      });
}
