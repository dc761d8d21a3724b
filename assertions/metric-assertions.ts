import { faultEffect } from "./faults";
import type { AssertionResult } from "./evidence";
import { metricView } from "./metric-view";
import { edgeStatusCounts } from "./metrics/edge-status-counts";
import { errorRate } from "./metrics/error-rate";
import { histogramCount } from "./metrics/histogram-count";
import { hopAgreement } from "./metrics/hop-agreement";
import { latencyShift } from "./metrics/latency-shift";
import { spanCounterAgreement } from "./metrics/span-counter-agreement";
import { statusLabels } from "./metrics/status-labels";
import { unexplainedFailures } from "./metrics/unexplained-failures";
import type { RunView } from "./run-view";

export { METRIC_ASSERTIONS } from "./metrics/ids";

/**
 * Family "metrics": counters reconcile with ground truth and with the traces. Exact where the system is deterministic
 * (edge status counts vs the driver, client vs server of every hop, spans vs counters per operation and code,
 * histogram counts vs counters, error codes per the mapping table, every failure explained by a journaled fault),
 * statistical with a stated binomial bound where it is random (error rate), and windowed for injected latency.
 */
export function assertMetrics(view: RunView): AssertionResult[] {
  const metrics = metricView(view);
  const has = (kind: string) => view.evidence.faults.some((f) => f.kind === kind);
  const surfaces = view.expectations.metrics?.errorSurfaces ?? [];
  return [
    unexplainedFailures(view),
    edgeStatusCounts(metrics),
    hopAgreement(metrics),
    spanCounterAgreement(metrics),
    histogramCount(metrics),
    ...(surfaces.length || view.evidence.faults.some((f) => faultEffect(f)?.fails) ? [statusLabels(metrics)] : []),
    ...(has("error") ? [errorRate(metrics)] : []),
    ...(has("latency") || has("link-latency") ? [latencyShift(metrics)] : []),
  ];
}
