/** Stable ids of the hygiene family; contract-labels comes first in a judgement (hygiene-assertions.ts). */
export const HYGIENE_ASSERTIONS = {
  contractLabels: "hygiene.contract-labels",
  naming: "hygiene.naming",
  cardinality: "hygiene.cardinality",
  contractSeries: "hygiene.contract-series",
  routeLabels: "hygiene.route-labels",
  histograms: "hygiene.histograms",
} as const;

/** The sample suffixes of a histogram. */
export const HISTOGRAM_PARTS = ["_bucket", "_sum", "_count"];
