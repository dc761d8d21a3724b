import type { GrpcCodeSpelling, MetricContract, TelemetryContract } from "./contract";
import { GRPC_CODE_NAMES } from "./grpc-codes";
import { NO_RESPONSE } from "./trace-index";

/**
 * How a contract's labels name operations and codes, on both sides of every comparison: series, spans, the driver's
 * routes and the scenario's tables all go through these, so a contract without a method label or with status classes
 * is read alike everywhere.
 */

/** Which end of a call a series or span records. */
export type Side = "server" | "client";
/** The protocols RED metrics are kept for. */
export type Protocol = "http" | "grpc";

/** Where a metric of the contract sits: RED metrics by protocol and side. */
export interface MetricRole {
  /** The contract key ("httpServerRequests"), for messages naming where it would be declared. */
  key: RedKey;
  protocol: Protocol;
  side: Side;
  kind: "counter" | "histogram";
}

/** The contract keys of the RED metrics. */
export type RedKey =
  | "httpServerRequests"
  | "httpServerDuration"
  | "httpClientRequests"
  | "httpClientDuration"
  | "grpcServerHandled"
  | "grpcServerHandling"
  | "grpcClientHandled"
  | "grpcClientHandling";

/** Every RED metric role of a contract, in contract order. */
export const RED_ROLES: readonly MetricRole[] = [
  { key: "httpServerRequests", protocol: "http", side: "server", kind: "counter" },
  { key: "httpServerDuration", protocol: "http", side: "server", kind: "histogram" },
  { key: "httpClientRequests", protocol: "http", side: "client", kind: "counter" },
  { key: "httpClientDuration", protocol: "http", side: "client", kind: "histogram" },
  { key: "grpcServerHandled", protocol: "grpc", side: "server", kind: "counter" },
  { key: "grpcServerHandling", protocol: "grpc", side: "server", kind: "histogram" },
  { key: "grpcClientHandled", protocol: "grpc", side: "client", kind: "counter" },
  { key: "grpcClientHandling", protocol: "grpc", side: "client", kind: "histogram" },
];

/** The role of one protocol, side and kind. */
export function roleOf(protocol: Protocol, side: Side, kind: "counter" | "histogram"): MetricRole {
  return RED_ROLES.find((r) => r.protocol === protocol && r.side === side && r.kind === kind)!;
}

/**
 * The label keys the judge reads of a series in this role: the contract's `labelKeys` and the keys operations and
 * codes are named by. A series lacking one is left out of every tally (never merged under "undefined"); an HTTP
 * client's status is conditional (no response, no status: read as "0"), so it is required only where declared.
 */
export function requiredKeys(contract: TelemetryContract, role: MetricRole, metric: MetricContract): string[] {
  const l = contract.labels;
  const read =
    role.protocol === "grpc"
      ? [l.grpcService, l.grpcMethod, l.grpcCode]
      : role.side === "server"
        ? [l.httpMethod, l.httpRoute, l.httpStatusCode]
        : [l.httpMethod, l.peerService];
  return [...new Set([...metric.labelKeys, ...read.filter((k): k is string => k !== undefined)])];
}

/** The code label's key of a protocol. */
export function codeKeyOf(contract: TelemetryContract, protocol: Protocol): string {
  return protocol === "grpc" ? contract.labels.grpcCode : contract.labels.httpStatusCode;
}

/** "2xx" for 200..299 (likewise 1xx..5xx); anything else ("0", a class already) as it is. */
export function statusClass(code: string): string {
  return /^[1-5]\d\d$/.test(code) ? `${code[0]}xx` : code;
}

const BY_FOLDED = new Map<string, string>([
  ...GRPC_CODE_NAMES.map((name): [string, string] => [name.replace(/_/g, "").toLowerCase(), name]),
  // Go's codes.Canceled prints the American spelling.
  ["canceled", "CANCELLED"],
]);

/** A gRPC code label value in UPPER_SNAKE ("UNAVAILABLE"), whichever spelling the contract declares. */
export function grpcCodeName(value: string, spelling: GrpcCodeSpelling = "UPPER_SNAKE"): string {
  if (spelling === "UPPER_SNAKE") return value;
  if (spelling === "number") return /^\d+$/.test(value) ? (GRPC_CODE_NAMES[Number(value)] ?? value) : value;
  return BY_FOLDED.get(value.replace(/_/g, "").toLowerCase()) ?? value;
}

/** How an endpoint's series label the outcome: the code, its HTTP class, or only whether the call failed. */
export type StatusForm = "code" | "class" | "error";

/**
 * An endpoint's status form: the coarsest its counter and histogram label ("error" over "class" over "code"). Every
 * code compared at it (series', spans', the driver's, a table's) is put in this form, so a class-labelled counter and
 * a code-labelled one compare.
 */
export function statusForm(protocol: Protocol, metrics: readonly (MetricContract | undefined)[]): StatusForm {
  if (metrics.some((m) => m?.status === "error")) return "error";
  return protocol === "http" && metrics.some((m) => m?.status === "class") ? "class" : "code";
}

/** The coarsest of several forms (both sides of a hop compared in it). */
export function coarsestForm(forms: readonly StatusForm[]): StatusForm {
  return forms.includes("error") ? "error" : forms.includes("class") ? "class" : "code";
}

/**
 * gRPC codes a server's span marks as an error (OpenTelemetry's RPC conventions; the rest are the caller's doing).
 */
const GRPC_SERVER_ERRORS = new Set([
  "UNKNOWN",
  "DEADLINE_EXCEEDED",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
]);

/**
 * Whether a call failed as its server's span status says: a 5xx or no response (HTTP), a server-error code (gRPC);
 * "true"/"false" (the "error" form) as they are.
 */
export function failedOnServer(protocol: Protocol, code: string): boolean {
  if (code === "true" || code === "false") return code === "true";
  if (protocol === "grpc") return GRPC_SERVER_ERRORS.has(code);
  return code === "0" || code === "5xx" || Number(code) >= 500;
}

/** A code in a status form ("201" -> "2xx" for "class"; "503" -> "true" for "error"). */
export function inForm(code: string, form: StatusForm, protocol: Protocol): string {
  if (form === "error") return String(failedOnServer(protocol, code));
  return form === "class" ? statusClass(code) : code;
}

/** The code a series records, in UPPER_SNAKE for gRPC; an HTTP client series without one got no response ("0"). */
export function seriesCode(
  contract: TelemetryContract,
  protocol: Protocol,
  side: Side,
  labels: Record<string, string>,
): string | undefined {
  const value = labels[codeKeyOf(contract, protocol)];
  if (protocol === "grpc") return value === undefined ? undefined : grpcCodeName(value, contract.grpcCodeSpelling);
  return value ?? (side === "client" ? NO_RESPONSE : undefined);
}

/** An HTTP operation as the contract names it: "METHOD what", or `what` alone when series carry no method. */
export function httpOperation(contract: TelemetryContract, method: string | undefined, what: string): string {
  return contract.labels.httpMethod === undefined ? what : `${method} ${what}`;
}

/** The route of a driver's or scenario's "METHOD /route" ("/route"); a bare route as it is. */
export function routePath(route: string): string {
  const match = /^[A-Z]+ (.*)$/.exec(route);
  return match ? match[1]! : route;
}

/** A "METHOD /route" (or a gRPC method) in the operation form of the contract's HTTP series. */
export function asOperation(contract: TelemetryContract, protocol: Protocol, route: string): string {
  return protocol === "http" && contract.labels.httpMethod === undefined ? routePath(route) : route;
}
