import type { TelemetryContract } from "./contract";
import type { Trace } from "./trace-model";

/**
 * Everything one scenario run produced, collected once after quiesce. Assertions read only this (plus the
 * scenario's expectations): no network, no clock. All times are epoch milliseconds on the harness's clock.
 */
export interface Evidence {
  scenario: string;
  /** When load started and ended. */
  window: { startMs: number; endMs: number };
  /** What the scenario planned: the judge derives from it how much each assertion must compare. */
  plan: RunPlan;
  /** Ground truth from the load driver: one record per request sent. */
  requests: RequestRecord[];
  /** Ground truth from the fault injectors. Empty for baseline. */
  faults: FaultRecord[];
  /** Ground truth from the probe poller (every 100 ms, /healthz and /readyz of every service). */
  probes: ProbeRecord[];
  /** Prometheus, scraped from the services. */
  metrics: MetricsEvidence;
  /** Jaeger: one entry per request's trace id; undefined when the trace was never found before the deadline. */
  traces: Record<string, Trace | undefined>;
  /** Each service's structured log lines (parsed JSON, from its .jsonl file), flushed at quiesce. */
  logs: Record<string, LogLine[]>;
  /** The services of the mesh under test. */
  services: ServiceInfo[];
  /**
   * Ground truth from the harness's process sampler (/proc of each service's pid, every 200 ms): what a process
   * fault or a resource fault really did, independent of the service's own gauges. Absent when the harness cannot
   * see the processes (an external mesh, or no /proc).
   */
  processes?: ProcessSample[];
  /**
   * Each service's span pipeline as its SDK counts it (the admin API's /admin/telemetry), read after a flush at load
   * start and again after the quiesce flush: telemetry under test, read to say where spans were lost (before export,
   * or between exporter and store). Absent for services without an admin API.
   */
  spanPipeline?: Record<string, { before: SpanCounts; after: SpanCounts }>;
}

/** A service SDK's own span counts since it started. */
export interface SpanCounts {
  started: number;
  ended: number;
  exported: number;
  exportFailures: number;
}

/** One reading of a service's process from /proc/<pid>. */
export interface ProcessSample {
  service: string;
  atMs: number;
  pid: number;
  /** Whether the pid was there: false after a kill, before the restart. */
  alive: boolean;
  /** /proc/<pid>/stat state: "R" running, "S" sleeping, "T" stopped (frozen), "Z" zombie... */
  state?: string;
  /** user + system CPU seconds so far (of this pid's life). */
  cpuSeconds?: number;
  /** VmRSS. */
  rssBytes?: number;
}

/** What the run was meant to do, from the scenario and the driver (harness records, not telemetry). */
export interface RunPlan {
  /** Requests the driver was to send: rate x duration, less iterations the driver itself reported dropped. */
  requests: number;
  /** The route mix: route name -> relative weight. */
  routes: Record<string, number>;
  /** Root sampling ratio the services were started with. */
  samplingRatio: number;
}

export interface ServiceInfo {
  name: string;
  /** The edge service receives the driver's requests. */
  role: "edge" | "internal";
  protocol: "http" | "grpc";
  /** The Prometheus `instance` label of its /metrics target (host:port); "" when it exposes no /metrics. */
  instance: string;
  /** The contract this service is judged by (its runtime's built-in one, or --contract). */
  contract: TelemetryContract;
  /** Which implementation ran ("node", "go", or "external"). */
  impl: string;
  /**
   * The operations the service declares: HTTP route templates ("POST /api/checkout") or gRPC methods
   * ("meshproof.payments.v1.Payments/Charge"). A `route` label value must be one of these (or "unmatched").
   */
  operations?: string[];
  /**
   * The probes the harness polls for it (evidence.probes holds records of these only). Absent in evidence recorded
   * before it was told: both, as every sample-kit service has.
   */
  probes?: ("healthz" | "readyz")[];
  /**
   * Whether the harness reads its structured log (evidence.logs): the mesh declared a log file for it. Absent in
   * evidence recorded before it was told: true, as every sample-kit service has one.
   */
  structuredLog?: boolean;
}

export interface RequestRecord {
  /** The X-Request-ID the driver sent. */
  id: string;
  /**
   * The trace id of the W3C traceparent the driver sent (32 hex); sampled unless `parent` says otherwise. Empty when
   * the request carried no traceparent (`parent: "none"`): the server chose the trace id (see `responseTraceId`).
   */
  traceId: string;
  /**
   * The parent span id of the traceparent the driver sent (16 hex). The driver exports no span, so the edge's server
   * span points at a parent that is never in the trace: this tells that root apart from an orphan. Absent when no
   * traceparent was sent.
   */
  parentSpanId?: string;
  /**
   * Which trace context the request carried: a traceparent with flags 01 ("sampled"), with flags 00 ("unsampled"),
   * or none at all ("none"). Absent in logs written before drivers recorded it, which sent "sampled" only.
   */
  parent?: "sampled" | "unsampled" | "none";
  /** The trace id of the W3C `traceresponse` header the server answered with (32 hex), when it sent one. */
  responseTraceId?: string;
  /** The sampled flag of that `traceresponse` header: whether the server says it recorded the trace. */
  responseSampled?: boolean;
  /** Route template as the driver names it, e.g. "POST /api/checkout". */
  route: string;
  startMs: number;
  endMs: number;
  /** HTTP status; 0 when no response came (connection error, timeout). */
  status: number;
  error?: string;
}

export interface FaultRecord {
  id: string;
  kind: string;
  /** What the fault hit, as the scenario names it: "payments.Charge", "payments", a link "orders-redis". */
  target: string;
  /**
   * How it was injected: the service's admin API, an L7 proxy in front of the callee, Toxiproxy, a signal, a cgroup,
   * the Docker engine, or nothing (an overload is the load itself). Absent in journals written before it was recorded.
   */
  via?: "admin" | "l7" | "toxiproxy" | "signal" | "cgroup" | "docker" | "load";
  /** The link it acted on, by its ends (a link fault, or a request fault injected in front of the callee). */
  link?: { name: string; from: string; to: string };
  params: Record<string, unknown>;
  /** When the harness began applying it: the fault may act from then on (memory is held while it is applied). */
  appliedAtMs: number;
  /**
   * When its injector said it was in place: it acts from then on at the latest. Between the two a call may or may not
   * meet it (an L7 proxy's fault reached the proxy a few ms after appliedAtMs). Absent in older journals.
   */
  inPlaceAtMs?: number;
  /** When the revert began (a killed service's start was issued); revertedAtMs is when it was in place (ready). */
  revertStartedAtMs?: number;
  revertedAtMs?: number;
  /** Set when the revert failed (the other reverts still ran). */
  revertError?: string;
  /**
   * A kill: the target's counters read from its /metrics just before it died (its first life's last values, which
   * Prometheus may not have scraped), and when.
   */
  lastSamples?: MetricSample[];
  lastSamplesAtMs?: number;
  /**
   * Counters read from outside while the target drained (no admin API to hand them over): it may have counted calls
   * from `lastSamplesAtMs` until it stopped answering (this time) that no read saw.
   */
  uncountedUntilMs?: number;
  /**
   * A kill: spans the target ended from this time on may have died with it, still in its exporter's queue (SIGKILL
   * leaves no flush): when the harness's flush before the kill began, or one export interval before the kill where
   * it could not flush.
   */
  spansLostFromMs?: number;
}

export interface ProbeRecord {
  service: string;
  probe: "healthz" | "readyz";
  atMs: number;
  /** HTTP status; 0 when the poll got no response. */
  status: number;
  latencyMs: number;
  body?: ProbeBody;
  error?: string;
  /** Why there was no response: the poller's deadline passed ("timeout") or the connection was refused. */
  outcome?: "answered" | "timeout" | "refused" | "error";
}

export interface ProbeBody {
  status: string;
  checks: Record<string, { status: string; latencyMs: number; error?: string }>;
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricSeries {
  name: string;
  labels: Record<string, string>;
  /** [epoch seconds, value] pairs. */
  values: [number, number][];
}

export interface MetricsEvidence {
  /** Every series of the mesh's targets (and `up`) just before load started. */
  start: MetricSample[];
  /** The same selection after quiesce (>= 2 scrapes after the last request). */
  end: MetricSample[];
  /** Extra instants the harness captured, by label (e.g. "fault:f1:applied"); none today. */
  at: Record<string, MetricSample[]>;
  /**
   * Range series over the run (from 5 s before load start to the end) at 1 s steps: the runtime gauges, CPU seconds,
   * the GC count (`<gc>_count`), and the RED histograms' `_count` and `_sum` by operation and code. Evidence recorded
   * before the GC and RED series were added holds the runtime gauges and CPU only.
   */
  range: MetricSeries[];
  /** Prometheus metric metadata by family name (/api/v1/metadata): type and help of every family the mesh exposes. */
  metadata: Record<string, { type: string; help?: string; unit?: string }>;
  /** Each service's /metrics in the Prometheus text format, fetched at the end of the run (what promtool lints). */
  exposition: Record<string, string>;
  /** Exemplars Prometheus stored for the mesh's histograms during the load window (/api/v1/query_exemplars). */
  exemplars: Exemplar[];
}

export interface Exemplar {
  /** Sample name the exemplar is attached to (a histogram's _bucket). */
  name: string;
  /** The series' labels. */
  labels: Record<string, string>;
  traceId: string;
  value: number;
  timestampMs: number;
}

export interface LogLine {
  time?: string | number;
  level?: string | number;
  service?: string;
  trace_id?: string;
  span_id?: string;
  request_id?: string;
  msg?: string;
  [key: string]: unknown;
}

/** The resolution of the driver's request times (startMs, endMs): whole milliseconds (Date.now()). */
export const DRIVER_TICK_MS = 1;

/** The assertion families, in report order. */
export const ALL_FAMILIES = ["traces", "metrics", "probes", "runtime", "hygiene", "correlation"] as const;
export type AssertionFamily = (typeof ALL_FAMILIES)[number];

/**
 * How a claim ended: judged and held, judged and broken, or not promised — the mesh's contract or config does not
 * promise what the claim needs (no /metrics, no probe, no log, no exemplar label), so it was neither passed nor failed.
 */
export type AssertionStatus = "passed" | "failed" | "not-promised";

/**
 * One judged claim. `expected` and `observed` are what a human compares; `observed.compared` is how many items the
 * assertion compared (never a pass over zero: 0 only for "not-promised"); `evidence` a small sample (trace and
 * request ids).
 */
export interface AssertionResult {
  id: string;
  family: AssertionFamily;
  status: AssertionStatus;
  message: string;
  expected: Record<string, unknown>;
  observed: Record<string, unknown> & { compared: number };
  /** A failed assertion in one line: "expected X, observed Y, on Z" where it compared values, else its first finding. */
  headline?: string;
  /**
   * The requests and traces its findings name, the services they are about (and which side's counters: "payments
   * server"), and a sample of the findings.
   */
  evidence?: { traceIds?: string[]; requestIds?: string[]; services?: string[]; sample?: unknown };
}
