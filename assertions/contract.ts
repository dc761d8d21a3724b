import { z } from "zod";
import goContract from "./contracts/go.json";
import nodeContract from "./contracts/node.json";

/**
 * The telemetry contract as data: the metric names, label keys, span attribute keys, request-id carriers and probe
 * shape the judge reads for one service. It is what judge and judged share, and it is only data: a service follows
 * it (or not), the judge never trusts that it does. Built-in contracts live in assertions/contracts/*.json (the Node
 * kit's and prometheus/client_golang's conventions); `--contract FILE` supplies another, validated by CONTRACT_SCHEMA.
 */
export interface TelemetryContract {
  /** A name for messages and the verdict ("node", "go", "my-team"). */
  name: string;
  /** Which runtime family the runtime assertions apply: "node" (event loop) or "go" (goroutines). */
  runtime: "node" | "go";
  /** Prometheus's per-target health series. */
  up: string;
  labels: ContractLabels;
  httpServerRequests: MetricContract;
  httpServerDuration: MetricContract;
  httpClientRequests: MetricContract;
  httpClientDuration: MetricContract;
  grpcServerHandled: MetricContract;
  grpcServerHandling: MetricContract;
  grpcClientHandled: MetricContract;
  grpcClientHandling: MetricContract;
  /** The service's own count of faults it applied: telemetry under test, read only as a cross-check. */
  faultsInjected?: MetricContract;
  runtimeMetrics: RuntimeContract;
  spans: SpanContract;
  /** HTTP header and gRPC metadata key carrying the request id. */
  requestIdHeader: string;
  probes: ProbeContract;
  /** Keys of the structured log lines that correlate a line with its request's trace. */
  logs: { traceId: string; spanId: string; requestId: string };
  /** Exemplar label carrying the trace id on duration histograms; absent when the service attaches none. */
  exemplarTraceIdLabel?: string;
}

export interface MetricContract {
  name: string;
  type: "counter" | "histogram" | "gauge" | "summary";
  labelKeys: string[];
}

/** Label keys by meaning, so no assertion hard-codes them. */
export interface ContractLabels {
  /** Prometheus target label, matched against ServiceInfo.instance. */
  instance: string;
  httpMethod: string;
  httpRoute: string;
  httpStatusCode: string;
  peerService: string;
  grpcService: string;
  grpcMethod: string;
  grpcCode: string;
  faultKind: string;
  faultTarget: string;
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
  requestId: string;
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
  dbSystem: string[];
}

export interface ProbeContract {
  healthz: string;
  readyz: string;
  /** Key of the overall status in the JSON body, its healthy value, and the key of the per-check map. */
  statusKey: string;
  okValue: string;
  checksKey: string;
}

const name = z.string().min(1);
const metric = z.strictObject({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "must be a Prometheus metric name"),
  type: z.enum(["counter", "histogram", "gauge", "summary"]),
  labelKeys: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a Prometheus label name")),
});

/** The strict schema of a contract file: unknown keys anywhere are rejected. */
export const CONTRACT_SCHEMA = z.strictObject({
  name,
  runtime: z.enum(["node", "go"]),
  up: name,
  labels: z.strictObject({
    instance: name,
    httpMethod: name,
    httpRoute: name,
    httpStatusCode: name,
    peerService: name,
    grpcService: name,
    grpcMethod: name,
    grpcCode: name,
    faultKind: name,
    faultTarget: name,
  }),
  httpServerRequests: metric,
  httpServerDuration: metric,
  httpClientRequests: metric,
  httpClientDuration: metric,
  grpcServerHandled: metric,
  grpcServerHandling: metric,
  grpcClientHandled: metric,
  grpcClientHandling: metric,
  faultsInjected: metric.optional(),
  runtimeMetrics: z.strictObject({
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
  }),
  spans: z.strictObject({
    requestId: name,
    httpMethod: name,
    httpRoute: name,
    urlPath: name,
    httpStatusCode: name,
    errorType: name,
    rpcSystem: name,
    rpcService: name.optional(),
    rpcMethod: name,
    grpcStatusCode: name,
    dbSystem: z.array(name).min(1),
  }),
  requestIdHeader: name,
  probes: z.strictObject({ healthz: name, readyz: name, statusKey: name, okValue: name, checksKey: name }),
  logs: z.strictObject({ traceId: name, spanId: name, requestId: name }),
  exemplarTraceIdLabel: name.optional(),
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
  const runtime = contract.runtimeMetrics;
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

/** The built-in contracts by name: the Node kit's conventions and prometheus/client_golang's. */
export const BUILTIN_CONTRACTS: Readonly<Record<"node" | "go", TelemetryContract>> = {
  node: parseContract(nodeContract, "assertions/contracts/node.json"),
  go: parseContract(goContract, "assertions/contracts/go.json"),
};

export const DEFAULT_CONTRACT = BUILTIN_CONTRACTS.node;

/** Every metric a contract names for RED, in one list (hygiene checks their names). */
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
  ];
}
