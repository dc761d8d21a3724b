export {
  BUILTIN_CONTRACTS,
  CONTRACT_SCHEMA,
  ContractError,
  DEFAULT_CONTRACT,
  parseContract,
  redMetrics,
} from "./contract";
export type {
  ContractLabels,
  GrpcCodeSpelling,
  KitContract,
  LogContract,
  MetricContract,
  ProbeContract,
  RuntimeContract,
  SpanContract,
  TelemetryContract,
} from "./contract";
export { grpcCodeName, statusClass } from "./metric-labels";
export { notPromised } from "./result";
export type {
  AssertionFamily,
  AssertionResult,
  AssertionStatus,
  Evidence,
  Exemplar,
  FaultRecord,
  LogLine,
  MetricSample,
  MetricSeries,
  MetricsEvidence,
  ProbeBody,
  ProbeRecord,
  RequestRecord,
  RunPlan,
  ServiceInfo,
} from "./evidence";
export type { AttributeValue, Span, SpanKind, Trace } from "./trace-model";
export { ALL_FAMILIES, DEFAULT_EXCLUDED_ROUTES, DEFAULT_FORBIDDEN_LABELS } from "./expectations";
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
  SpanClass,
  Topology,
  TraceExpectations,
} from "./expectations";
export { evaluate, judgeRun, type Judgement } from "./evaluate";
export { defineFault, FAULT_KINDS, FAULTS, faultDescriptor, faultEffect, measureFaultEffects } from "./faults";
export type {
  FaultDescriptor,
  FaultKind,
  FaultSite,
  FaultSpec,
  FaultSpecOf,
  FaultTiming,
  Measure,
  MeasuredEffect,
} from "./faults";
export type { Mutant, MutationOperator, Rng } from "./mutation";
export { RunView } from "./run-view";
export { assertTraces, TRACE_ASSERTIONS } from "./trace-assertions";
export { assertRuntime, RUNTIME_ASSERTIONS } from "./runtime-assertions";
export { assertHygiene, HYGIENE_ASSERTIONS, requiredSeries, UNMATCHED_ROUTE } from "./hygiene-assertions";
export { assertMetrics, METRIC_ASSERTIONS } from "./metric-assertions";
export { assertProbes, PROBE_ASSERTIONS } from "./probe-assertions";
export { assertCorrelation, CORRELATION_ASSERTIONS } from "./correlation-assertions";
export { lintExposition, parseExposition } from "./promlint";
export type { LintProblem, MetricFamily } from "./promlint";
export { expectedSpans, explainFailure, faultLocation, hopOfFault, isSuccess, spanCountRange } from "./trace-shape";
export type { ExpectedSpan, Explanation, FaultEffect, FaultLocation } from "./trace-shape";
export { GRPC_CODE_NAMES, indexTrace, SpanReader } from "./trace-index";
export {
  binomialTail,
  describeSuspect,
  faultRanking,
  faultTargetService,
  localize,
  RcaContext,
  rcaScoreLine,
  scoreLocalization,
  selfTimeUs,
  suspectKey,
} from "./rca";
export type {
  Identity,
  RcaMiss,
  RcaOptions,
  RcaResult,
  RcaScore,
  RcaWindow,
  RouteStats,
  RuntimeCompare,
  ScoredRun,
  Suspect,
  SuspectRuntime,
} from "./rca";
export { binomialAcceptance } from "./binomial";
export { meshproofMatchers } from "./matchers";
