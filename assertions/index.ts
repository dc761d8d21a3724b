export { DEFAULT_CONTRACT } from "./contract";
export type { ContractLabels, MetricContract, TelemetryContract } from "./contract";
export type {
  AssertionFamily,
  AssertionResult,
  Evidence,
  FaultRecord,
  LogLine,
  MetricSample,
  MetricSeries,
  MetricsEvidence,
  ProbeBody,
  ProbeRecord,
  RequestRecord,
  ServiceInfo,
} from "./evidence";
export type { AttributeValue, Span, SpanKind, Trace } from "./trace-model";
export { DEFAULT_EXCLUDED_ROUTES, DEFAULT_FORBIDDEN_LABELS, DEFAULT_SEMCONV } from "./expectations";
export type {
  ErrorLayer,
  ErrorSurface,
  Expectations,
  Hop,
  HopProtocol,
  HygieneExpectations,
  MetricsExpectations,
  ProbeExpectations,
  ReadinessFlip,
  RuntimeExpectations,
  SemconvRequirements,
  SpanClass,
  SpanSelector,
  Topology,
  TraceExpectations,
} from "./expectations";
export { evaluate } from "./evaluate";
export { assertTraces, isSuccess, TRACE_ASSERTIONS } from "./trace-assertions";
export { assertRuntime, RUNTIME_ASSERTIONS } from "./runtime-assertions";
export { assertHygiene, HYGIENE_ASSERTIONS } from "./hygiene-assertions";
export { assertMetrics, faultSnapshotKey, METRIC_ASSERTIONS, parseServiceTarget } from "./metric-assertions";
export { assertProbes, PROBE_ASSERTIONS } from "./probe-assertions";
export { binomialAcceptance } from "./binomial";
export { meshproofMatchers } from "./matchers";
