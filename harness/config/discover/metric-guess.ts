import {
  BUILTIN_CONTRACTS,
  type ContractLabels,
  type MetricContract,
  type RuntimeContract,
  type TelemetryContract,
} from "../../../assertions/contract";
import type { Family } from "./metric-families";

/** Label keys by meaning, most specific first. */
const ROUTE_KEYS = ["http_route", "route", "endpoint", "handler", "path", "uri", "url_path", "operation"];
const STATUS_KEYS = ["http_response_status_code", "status_code", "http_status_code", "code", "status", "error"];
const METHOD_KEYS = ["http_request_method", "method", "http_method", "verb"];
const GRPC_METHOD_KEYS = ["grpc_method", "rpc_method", ...ROUTE_KEYS];
const GRPC_CODE_KEYS = ["grpc_code", "rpc_grpc_status_code", "rpc_response_status_code", ...STATUS_KEYS];
const GRPC_SERVICE_KEYS = ["grpc_service", "rpc_service"];
/** Families of runtimes, exporters and scrapes: never a service's request metrics. */
const NOT_RED = /^(go|process|nodejs|promhttp|scrape|up|jvm|python|otel|target)_|^up$/;

/** The metric part of a contract guessed from a service's families, with a line per decision. */
export interface MetricGuess {
  labels: ContractLabels;
  httpServerRequests: MetricContract;
  httpServerDuration: MetricContract;
  grpcServerHandled: MetricContract;
  grpcServerHandling: MetricContract;
  grpcCodeSpelling?: TelemetryContract["grpcCodeSpelling"];
  runtime?: "node" | "go";
  runtimeMetrics?: RuntimeContract;
  reasons: string[];
}

/**
 * The built-in contract whose server RED metrics the service exposes (and, for the kits' node and go, whose runtime
 * gauges it has too), with why; undefined when none fits.
 */
export function builtinFit(
  families: ReadonlyMap<string, Family>,
): { name: "otel" | "go" | "node"; why: string } | undefined {
  for (const name of ["otel", "go", "node"] as const) {
    const c = BUILTIN_CONTRACTS[name];
    const server = [c.httpServerRequests, c.httpServerDuration, c.grpcServerHandled, c.grpcServerHandling]
      .map((m) => m.name.replace(/_count$/, ""))
      .filter((m) => families.has(m));
    const runtime = runtimeNames(c.runtimeMetrics);
    if (!server.length || !runtime.every((m) => families.has(m))) continue;
    return {
      name,
      why: `its series include ${[...new Set(server)].join(", ")}${runtime.length ? ` and ${c.runtime} runtime gauges` : ""}`,
    };
  }
  return undefined;
}

/**
 * A contract's metric part for a service no built-in fits: its request counter and latency histogram (the pair
 * whose labels agree best), their route, status and method labels, the status form their values show, gRPC
 * families where it has its own, and runtime gauges where all of a runtime's are there.
 */
export function guessMetrics(families: ReadonlyMap<string, Family>): MetricGuess {
  const reasons: string[] = [];
  const all = [...families.values()].filter((f) => !NOT_RED.test(f.name) && !/client/.test(f.name));
  const isGrpc = (f: Family) => /grpc|rpc/.test(f.name);
  const http = redPair(
    all.filter((f) => !isGrpc(f)),
    reasons,
    "request",
  );
  const grpcPair = redPair(all.filter(isGrpc), [], "gRPC");
  if (grpcPair) reasons.push(`gRPC: ${grpcPair.counter.name} and ${grpcPair.histogram.name}`);
  else if (http) reasons.push("no gRPC family of its own: gRPC calls are read from the same families");
  const pair = http ?? grpcPair;
  if (!pair) reasons.push("no request counter or latency histogram in its series: otel's names stand in (fill in)");
  const fallback = BUILTIN_CONTRACTS.otel;
  const route = firstKey(pair?.histogram, ROUTE_KEYS);
  const status = firstKey(pair?.histogram, STATUS_KEYS);
  const method = firstKey(pair?.histogram, METHOD_KEYS);
  const grpcFamily = grpcPair?.histogram ?? pair?.histogram;
  if (pair)
    reasons.push(
      `route label ${route ?? "(none: fill in)"}, status label ${status ?? "(none: fill in)"}${status ? ` (values ${[...(pair.histogram.values.get(status) ?? [])].sort().join(", ")})` : ""}, ${method ? `method label ${method}` : "no method label"}`,
    );
  const grpcService = firstKey(grpcFamily, GRPC_SERVICE_KEYS);
  const labels: ContractLabels = {
    instance: "instance",
    ...(method ? { httpMethod: method } : {}),
    httpRoute: route ?? fallback.labels.httpRoute,
    httpStatusCode: status ?? fallback.labels.httpStatusCode,
    peerService: "peer_service",
    ...(grpcService ? { grpcService } : {}),
    grpcMethod: firstKey(grpcFamily, GRPC_METHOD_KEYS) ?? fallback.labels.grpcMethod,
    grpcCode: firstKey(grpcFamily, GRPC_CODE_KEYS) ?? fallback.labels.grpcCode,
  };
  const metric = (f: Family | undefined, otherwise: MetricContract, statusKey: string | undefined) =>
    f ? metricOf(f, statusKey) : otherwise;
  const httpPair = pair ?? { counter: undefined, histogram: undefined };
  const rpc = grpcPair ?? httpPair;
  const spelling = grpcPair ? codeSpelling(grpcPair.counter.values.get(labels.grpcCode)) : undefined;
  return {
    labels,
    httpServerRequests: metric(httpPair.counter, fallback.httpServerRequests, status),
    httpServerDuration: metric(httpPair.histogram, fallback.httpServerDuration, status),
    grpcServerHandled: metric(rpc.counter, fallback.grpcServerHandled, labels.grpcCode),
    grpcServerHandling: metric(rpc.histogram, fallback.grpcServerHandling, labels.grpcCode),
    ...(spelling ? { grpcCodeSpelling: spelling } : {}),
    ...runtimeOf(families, reasons),
    reasons,
  };
}

/** The counter and histogram that best belong together; a histogram alone counts requests by its `_count`. */
function redPair(families: Family[], reasons: string[], what: string) {
  const counters = families.filter((f) => f.type === "counter" && /request|call|handled|http|rpc|grpc/.test(f.name));
  const histograms = families.filter(
    (f) => (f.type === "histogram" || f.type === "summary") && /duration|latency|seconds|time|handling/.test(f.name),
  );
  const ranked = histograms
    .flatMap((h) => [...counters.map((c) => ({ c, h, score: pairScore(c, h) })), { c: undefined, h, score: 0 }])
    .sort((a, b) => b.score - a.score || (a.c?.name.length ?? 99) - (b.c?.name.length ?? 99));
  const best = ranked[0];
  if (!best) return undefined;
  const counter: Family = best.c ?? { ...best.h, name: `${best.h.name}_count`, type: "counter" };
  const passed = counters.filter((c) => c !== best.c).map((c) => c.name);
  reasons.push(
    `${what} counter ${counter.name}${best.c ? "" : " (the histogram's count: no counter goes with it)"} and latency ${best.h.type} ${best.h.name}, labels ${best.h.labelKeys.join(", ") || "(none)"}${passed.length ? `; passed over ${passed.join(", ")} (labels differ from the histogram's)` : ""}`,
  );
  return { counter, histogram: best.h };
}

function pairScore(counter: Family, histogram: Family): number {
  const same = counter.labelKeys.join() === histogram.labelKeys.join() ? 4 : 0;
  const keys = (list: string[]) => (list.some((k) => counter.labelKeys.includes(k)) ? 2 : 0);
  const a = counter.name.split("_");
  const b = histogram.name.split("_");
  let prefix = 0;
  while (prefix < a.length && a[prefix] === b[prefix]) prefix++;
  return same + keys(ROUTE_KEYS) + keys(STATUS_KEYS) + prefix;
}

function metricOf(f: Family, statusKey: string | undefined): MetricContract {
  const type = f.type === "counter" || f.type === "histogram" || f.type === "summary" ? f.type : "counter";
  const status = statusForm(statusKey ? f.values.get(statusKey) : undefined);
  return { name: f.name, type, labelKeys: f.labelKeys, ...(status ? { status } : {}) };
}

/** "class" when every status value is 2xx-like, "error" when they are true/false, else the default "code". */
function statusForm(values: ReadonlySet<string> | undefined): MetricContract["status"] {
  const list = [...(values ?? [])];
  if (!list.length) return undefined;
  if (list.every((v) => /^[1-5]xx$/i.test(v))) return "class";
  if (list.every((v) => v === "true" || v === "false")) return "error";
  return undefined;
}

function codeSpelling(values: ReadonlySet<string> | undefined): TelemetryContract["grpcCodeSpelling"] {
  const list = [...(values ?? [])];
  if (list.length && list.every((v) => /^\d+$/.test(v))) return "number";
  if (list.some((v) => /^[A-Z][a-z]/.test(v))) return "CamelCase";
  return undefined;
}

function firstKey(family: Family | undefined, keys: readonly string[]): string | undefined {
  return keys.find((k) => family?.labelKeys.includes(k));
}

function runtimeNames(runtime: RuntimeContract | undefined): string[] {
  if (!runtime) return [];
  return Object.values(runtime).map((v) => (typeof v === "string" ? v : v.name));
}

function runtimeOf(families: ReadonlyMap<string, Family>, reasons: string[]) {
  for (const name of ["go", "node"] as const) {
    const kit = BUILTIN_CONTRACTS[name];
    const names = runtimeNames(kit.runtimeMetrics);
    const missing = names.filter((m) => !families.has(m));
    if (!missing.length) {
      reasons.push(`runtime ${name}: ${names.join(", ")} are all there`);
      return { runtime: name, runtimeMetrics: kit.runtimeMetrics };
    }
    if (missing.length < names.length)
      reasons.push(`no runtime metrics: ${name}'s ${missing.join(", ")} are missing (runtime assertions left out)`);
  }
  return {};
}
