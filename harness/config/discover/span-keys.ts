import { BUILTIN_CONTRACTS, type SpanContract } from "../../../assertions/contract";
import type { Span } from "../../../assertions/trace-model";

/** Candidate attribute keys per meaning: the current semantic conventions first, then the older generation. */
const CANDIDATES: Record<Exclude<keyof SpanContract, "dbSystem" | "rpcService" | "requestId">, string[]> = {
  httpMethod: ["http.request.method", "http.method"],
  httpRoute: ["http.route"],
  urlPath: ["url.path", "http.target"],
  httpStatusCode: ["http.response.status_code", "http.status_code"],
  errorType: ["error.type"],
  rpcSystem: ["rpc.system.name", "rpc.system"],
  rpcMethod: ["rpc.method"],
  grpcStatusCode: ["rpc.response.status_code", "rpc.grpc.status_code"],
};

/** The keys spans were seen to carry, by meaning. */
export type SeenKeys = Partial<Record<keyof SpanContract, string | string[]>>;

/**
 * The span attribute keys spans use for each meaning a contract names (old or new semantic conventions, whichever
 * they carry); a meaning no span shows keeps OpenTelemetry's current key. `seen` holds the keys found on spans.
 */
export function spanKeys(spans: readonly Span[]): { spans: SpanContract; seen: SeenKeys } {
  const present = new Set(spans.flatMap((s) => Object.keys(s.attributes)));
  const defaults = BUILTIN_CONTRACTS.otel.spans;
  const seen: SeenKeys = {};
  const pick = (meaning: keyof typeof CANDIDATES) => {
    const key = CANDIDATES[meaning].find((k) => present.has(k));
    if (key) seen[meaning] = key;
    return key ?? defaults[meaning];
  };
  const keys: SpanContract = {
    httpMethod: pick("httpMethod"),
    httpRoute: pick("httpRoute"),
    urlPath: pick("urlPath"),
    httpStatusCode: pick("httpStatusCode"),
    errorType: pick("errorType"),
    rpcSystem: pick("rpcSystem"),
    rpcMethod: pick("rpcMethod"),
    grpcStatusCode: pick("grpcStatusCode"),
  };
  // Older conventions name the service apart from a bare method; newer ones put "pkg.Service/Method" in rpc.method.
  const method = (s: Span) => s.attributes[keys.rpcMethod];
  if (present.has("rpc.service") && spans.some((s) => method(s) !== undefined && !String(method(s)).includes("/")))
    keys.rpcService = seen.rpcService = "rpc.service";
  const db = ["db.system.name", "db.system"].filter((k) => present.has(k));
  if (db.length) keys.dbSystem = seen.dbSystem = db;
  if (present.has("meshproof.request_id")) keys.requestId = seen.requestId = "meshproof.request_id";
  return { spans: keys, seen };
}

/** Whether a contract's span keys read spans that carry these keys (meanings no span showed do not count). */
export function readsSeenKeys(keys: SpanContract, seen: SeenKeys): boolean {
  return Object.entries(seen).every(([meaning, key]) => {
    const theirs = keys[meaning as keyof SpanContract];
    return Array.isArray(key) ? key.every((k) => theirs?.includes(k)) : theirs === key;
  });
}

/** The seen keys as one line for a note. */
export function describeSeen(seen: SeenKeys): string {
  return Object.values(seen).flat().join(", ") || "none of the keys a contract names";
}
