import { z } from "zod";
import goContract from "./contracts/go.json";
import nodeContract from "./contracts/node.json";
import otelContract from "./contracts/otel.json";

/**
 * The telemetry contract as data: the metric names, label keys, span attribute keys, request-id carriers and probe
 * shape the judge reads for one service. It is what judge and judged share, and it is only data: a service follows
 * it (or not), the judge never trusts that it does. Built-in contracts live in assertions/contracts/*.json (the Node
 * kit's and prometheus/client_golang's conventions); `--contract FILE` supplies another, validated by CONTRACT_SCHEMA.
 */
export interface TelemetryContract {
  /** A name for messages and the verdict ("node", "go", "my-team"). */
  name: string;
  /**
   * Which runtime family the runtime assertions apply: "node" (event loop) or "go" (goroutines). Required with
   * `runtimeMetrics`; absent when the contract promises no runtime metrics.
   */
  runtime?: "node" | "go";
  /** Prometheus's per-target health series. */
  up: string;
  labels: ContractLabels;
  /**
   * The request counter. A mesh whose exporter has no separate counter (OpenTelemetry's) names its duration
   * histogram's `_count` here as a counter: read as one, it is what the histogram counted.
   */
  httpServerRequests: MetricContract;
  httpServerDuration: MetricContract;
  /** Client-side RED metrics: absent when the service's callers record none (comparisons needing them are not promised). */
  httpClientRequests?: MetricContract;
  httpClientDuration?: MetricContract;
  grpcServerHandled: MetricContract;
  grpcServerHandling: MetricContract;
  grpcClientHandled?: MetricContract;
  grpcClientHandling?: MetricContract;
  /** The service's own count of faults it applied: telemetry under test, read only as a cross-check. */
  faultsInjected?: MetricContract;
  /** Runtime gauges; absent when the contract promises none (the runtime family leaves the service out). */
  runtimeMetrics?: RuntimeContract;
  spans: SpanContract;
  /** HTTP header and gRPC metadata key carrying the request id; absent when the mesh carries none. */
  requestIdHeader?: string;
  /** The probes' JSON body shape; absent when the mesh promises none (its probes are judged by status alone). */
  probes?: ProbeContract;
  /** Keys of the structured log lines that correlate a line with its request's trace; absent when it has no such log. */
  logs?: LogContract;
  /** Exemplar label carrying the trace id on duration histograms; absent when the service attaches none. */
  exemplarTraceIdLabel?: string;
  /**
   * How gRPC code label values are spelled: "UPPER_SNAKE" (`UNAVAILABLE`, the default), "CamelCase" (Go's
   * `codes.Code.String()`: `Unavailable`, `DeadlineExceeded`, `Canceled`) or "number" (`14`). Read as UPPER_SNAKE.
   */
  grpcCodeSpelling?: GrpcCodeSpelling;
}

export type GrpcCodeSpelling = "UPPER_SNAKE" | "CamelCase" | "number";

export interface MetricContract {
  name: string;
  type: "counter" | "histogram" | "gauge" | "summary";
  /** The label keys every series of it carries; a series lacking one is left out of every tally (hygiene names it). */
  labelKeys: string[];
  /**
   * What the status label holds: "code" (`201`, `UNAVAILABLE`; the default), "class" (HTTP `2xx`..`5xx`), or
   * "error" (`true`/`false`: whether the server's span marked the call an error, i.e. a 5xx or a server-error gRPC
   * code). The driver's and the spans' codes are compared in the same form.
   */
  status?: "code" | "class" | "error";
}

/** Label keys by meaning, so no assertion hard-codes them. */
export interface ContractLabels {
  /** Prometheus target label, matched against ServiceInfo.instance. */
  instance: string;
  /** Absent when HTTP series carry no method: an HTTP operation is then named by its route (or peer) alone. */
  httpMethod?: string;
  httpRoute: string;
  httpStatusCode: string;
  peerService: string;
  /** Absent when the method label carries "pkg.Service/Method" itself (newer RPC semantic conventions). */
  grpcService?: string;
  grpcMethod: string;
  grpcCode: string;
  /** Labels of `faultsInjected`; required with it. */
  faultKind?: string;
  faultTarget?: string;
}

export interface RuntimeContract {
  heapUsedBytes: string;
  heapTotalBytes: string;
  /** GC pauses: a histogram (Node, by kind) or a summary (Go's go_gc_duration_seconds). */
  gcDuration: { name: string; type: "histogram" | "summary"; kindLabel?: string };
  /** Node runtimes. */
  eventLoopLagSeconds?: string;
  /** The longest event-loop delay since the previous scrape (what a periodic stall must show). */
  eventLoopLagMaxSeconds?: string;
  eventLoopUtilization?: string;
  /** Go runtimes. */
  goroutines?: string;
  residentMemoryBytes: string;
  cpuSecondsTotal: string;
  startTimeSeconds: string;
}

/** Span attribute keys. Each any-of list is satisfied by one of its keys. */
export interface SpanContract {
  /** Absent when the mesh puts no request id on its spans (traces.request-id is then not promised). */
  requestId?: string;
  httpMethod: string;
  httpRoute: string;
  urlPath: string;
  httpStatusCode: string;
  errorType: string;
  rpcSystem: string;
  /** Absent when the method attribute carries "pkg.Service/Method" itself (newer RPC semantic conventions). */
  rpcService?: string;
  rpcMethod: string;
  grpcStatusCode: string;
  /**
   * Keys naming a datastore client span's system; absent when the mesh's datastore spans carry none (they are then
   * placed by the name they report under, and their attributes are not promised).
   */
  dbSystem?: string[];
}

export interface ProbeContract {
  healthz: string;
  readyz: string;
  /** Key of the overall status in the JSON body, its healthy value, and the key of the per-check map. */
  statusKey: string;
  okValue: string;
  checksKey: string;
}

/** Keys of a structured log line; without `requestId`, a request's lines are found by its trace id. */
export interface LogContract {
  traceId: string;
  spanId: string;
  requestId?: string;
}

const name = z.string().min(1);
const metric = z.strictObject({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "must be a Prometheus metric name"),
  type: z.enum(["counter", "histogram", "gauge", "summary"]),
  labelKeys: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a Prometheus label name")),
  status: z.enum(["code", "class", "error"]).optional(),
});

/** The strict schema of a contract file: unknown keys anywhere are rejected. */
export const CONTRACT_SCHEMA = z.strictObject({
  name,
  runtime: z.enum(["node", "go"]).optional(),
  up: name,
  labels: z.strictObject({
    instance: name,
    httpMethod: name.optional(),
    httpRoute: name,
    httpStatusCode: name,
    peerService: name,
    grpcService: name.optional(),
    grpcMethod: name,
    grpcCode: name,
    faultKind: name.optional(),
    faultTarget: name.optional(),
  }),
  httpServerRequests: metric,
  httpServerDuration: metric,
  httpClientRequests: metric.optional(),
  httpClientDuration: metric.optional(),
  grpcServerHandled: metric,
  grpcServerHandling: metric,
  grpcClientHandled: metric.optional(),
  grpcClientHandling: metric.optional(),
  faultsInjected: metric.optional(),
  runtimeMetrics: z
    .strictObject({
      heapUsedBytes: name,
      heapTotalBytes: name,
      gcDuration: z.strictObject({ name, type: z.enum(["histogram", "summary"]), kindLabel: name.optional() }),
      eventLoopLagSeconds: name.optional(),
      eventLoopLagMaxSeconds: name.optional(),
      eventLoopUtilization: name.optional(),
      goroutines: name.optional(),
      residentMemoryBytes: name,
      cpuSecondsTotal: name,
      startTimeSeconds: name,
    })
    .optional(),
  spans: z.strictObject({
    requestId: name.optional(),
    httpMethod: name,
    httpRoute: name,
    urlPath: name,
    httpStatusCode: name,
    errorType: name,
    rpcSystem: name,
    rpcService: name.optional(),
    rpcMethod: name,
    grpcStatusCode: name,
    dbSystem: z.array(name).min(1).optional(),
  }),
  requestIdHeader: name.optional(),
  probes: z.strictObject({ healthz: name, readyz: name, statusKey: name, okValue: name, checksKey: name }).optional(),
  logs: z.strictObject({ traceId: name, spanId: name, requestId: name.optional() }).optional(),
  exemplarTraceIdLabel: name.optional(),
  grpcCodeSpelling: z.enum(["UPPER_SNAKE", "CamelCase", "number"]).optional(),
});

// Compile-time check that the schema and the interface describe the same thing.
type Same<T extends U, U> = T;
export type ContractSchemaMatches = Same<z.infer<typeof CONTRACT_SCHEMA>, TelemetryContract>;

/** A contract file that does not fit the schema; the message names the file and every bad key path. */
export class ContractError extends Error {
  readonly exitCode = 2;
}

/** Validates a parsed contract; throws ContractError naming `source` and each bad key path. */
export function parseContract(value: unknown, source: string): TelemetryContract {
  const parsed = CONTRACT_SCHEMA.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys")
        return issue.keys.map((k) => `${where ? `${where}.` : ""}${k} is not a known key`).join("; ");
      return `${where || "(root)"}: ${issue.message}`;
    });
    throw new ContractError(`${source}: ${problems.join("; ")}`);
  }
  const contract = parsed.data;
  if (contract.faultsInjected && contract.labels.faultKind === undefined)
    throw new ContractError(`${source}: labels.faultKind is required with faultsInjected`);
  const runtime = contract.runtimeMetrics;
  if (!runtime) return contract;
  if (contract.runtime === undefined)
    throw new ContractError(`${source}: runtime ("node" or "go") is required with runtimeMetrics`);
  const lacking =
    contract.runtime === "node"
      ? (["eventLoopLagSeconds", "eventLoopUtilization"] as const).filter((k) => runtime[k] === undefined)
      : (["goroutines"] as const).filter((k) => runtime[k] === undefined);
  if (lacking.length)
    throw new ContractError(
      `${source}: runtimeMetrics.${lacking.join(", runtimeMetrics.")} is required for runtime "${contract.runtime}"`,
    );
  return contract;
}

/**
 * A contract of a kit the judge was written with (the node and go built-ins): it promises runtime metrics, a request
 * id, client metrics, structured logs and exemplars, everything the sample mesh's assertions read.
 */
export type KitContract = TelemetryContract &
  Required<
    Pick<
      TelemetryContract,
      | "runtime"
      | "runtimeMetrics"
      | "requestIdHeader"
      | "httpClientRequests"
      | "httpClientDuration"
      | "grpcClientHandled"
      | "grpcClientHandling"
      | "probes"
      | "exemplarTraceIdLabel"
    >
  > & { spans: SpanContract & { requestId: string }; logs: Required<LogContract> };

function kitContract(value: unknown, source: string): KitContract {
  const c = parseContract(value, source);
  const promised =
    c.runtime && c.runtimeMetrics && c.requestIdHeader && c.spans.requestId && c.logs?.requestId && c.probes;
  const client = c.httpClientRequests && c.httpClientDuration && c.grpcClientHandled && c.grpcClientHandling;
  if (!promised || !client || !c.exemplarTraceIdLabel) throw new ContractError(`${source}: not a kit's full contract`);
  return c as KitContract;
}

/**
 * The built-in contracts by name: the Node kit's conventions, prometheus/client_golang's, and OpenTelemetry's semantic
 * conventions as the OTel SDK's (or a Collector's) Prometheus exporter names them (README: Judging your own mesh).
 */
export const BUILTIN_CONTRACTS: Readonly<{ node: KitContract; go: KitContract; otel: TelemetryContract }> = {
  node: kitContract(nodeContract, "assertions/contracts/node.json"),
  go: kitContract(goContract, "assertions/contracts/go.json"),
  otel: parseContract(otelContract, "assertions/contracts/otel.json"),
};

export const DEFAULT_CONTRACT = BUILTIN_CONTRACTS.node;

/** Every metric a contract names for RED, in one list (those it names: client metrics may be absent). */
export function redMetrics(contract: TelemetryContract): MetricContract[] {
  return [
    contract.httpServerRequests,
    contract.httpServerDuration,
    contract.httpClientRequests,
    contract.httpClientDuration,
    contract.grpcServerHandled,
    contract.grpcServerHandling,
    contract.grpcClientHandled,
    contract.grpcClientHandling,
  ].filter((m): m is MetricContract => m !== undefined);
}
