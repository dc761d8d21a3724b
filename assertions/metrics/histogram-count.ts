import type { AssertionResult } from "../evidence";
import { disagreements, sum } from "../metric-query";
import { endpointKey, leftOutReason, type MetricView } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import { METRIC_ASSERTIONS } from "./ids";

/**
 * Every counter series equals its duration histogram's _count (both rose by the same calls). An endpoint without
 * both, or whose counter is the histogram's own _count (OpenTelemetry's exporters), is left out; none left: not
 * promised.
 */
export function histogramCount(metrics: MetricView): AssertionResult {
  const findings = new Findings();
  const { endpoints, leftOut } = metrics.judgeable(["counter", "histogram", "own-counter"]);
  if (endpoints.length === 0 && Object.keys(leftOut).length)
    return notPromised(
      METRIC_ASSERTIONS.histogramCount,
      "metrics",
      leftOutReason("no endpoint has a counter apart from its histogram", leftOut),
      { leftOut },
    );
  let compared = 0;
  for (const e of endpoints) {
    const counts = metrics.counterTally(e);
    const histogramCounts = metrics.histogramTally(e, "_count");
    if (sum(counts.values()) > 0) compared++;
    for (const d of disagreements(counts, histogramCounts))
      findings.add({
        detail: `${endpointKey(e)} ${d.key}: ${metrics.counter(e)!.name} rose by ${d.a}, ${metrics.histogram(e)!.name}_count by ${d.b}`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.histogramCount,
    "metrics",
    findings,
    {
      passed: "every counter rose exactly as its duration histogram's _count",
      failed: "histogram counts differ from their counters",
    },
    {
      compared,
      minimum: endpoints.length,
      what: "endpoints with calls",
      because: "the endpoints the planned routes cross",
    },
    { equal: true },
    { differing: findings.count, ...(Object.keys(leftOut).length ? { leftOut } : {}) },
  );
}
