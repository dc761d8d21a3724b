/** Stable ids of the metrics family. */
export const METRIC_ASSERTIONS = {
  edgeStatusCounts: "metrics.edge-status-counts",
  hopAgreement: "metrics.hop-agreement",
  spanCounterAgreement: "metrics.span-counter-agreement",
  histogramCount: "metrics.histogram-count",
  statusLabels: "metrics.status-labels",
  unexplainedFailures: "metrics.unexplained-failures",
  errorRate: "metrics.error-rate",
  latencyShift: "metrics.latency-shift",
} as const;
