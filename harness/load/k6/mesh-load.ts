/**
 * meshproof's k6 load script: runs directly in k6 >= 1.0 (which strips the types), typed with @types/k6, and imports
 * no remote module. It sends the requests the harness planned (harness/load/load-plan.ts) and passed as data, one per
 * iteration, each with an X-Request-ID and a W3C traceparent generated here; the per-request samples of
 * `k6 run --out json=FILE` become the request log (harness/load/k6-output.ts).
 *
 * Environment (set by harness/load/k6-driver.ts locally, by the TestRun of `npm run k6:operator` in Kubernetes):
 *   MESHPROOF_BASE_URL     the edge, e.g. http://127.0.0.1:8080
 *   MESHPROOF_K6_CONFIG    JSON file: { options, timeoutMs } (executors, thresholds)
 *   MESHPROOF_K6_REQUESTS  JSON file: the planned requests, [{ route, method, path, body?, parent }]
 */
import { SharedArray } from "k6/data";
import crypto from "k6/crypto";
import exec from "k6/execution";
import http from "k6/http";
import { Counter } from "k6/metrics";
import type { Options } from "k6/options";

/** The shapes the harness writes (PlannedRequest and K6ScriptConfig in harness/load); data, not imports. */
interface PlannedRequest {
  route: string;
  method: "GET" | "POST";
  path: string;
  body?: string;
  headers?: Record<string, string>;
  parent: "sampled" | "unsampled" | "none";
}
interface ScriptConfig {
  options: Options;
  timeoutMs: number;
}

function requiredEnv(name: string): string {
  const value = __ENV[name];
  if (!value) throw new Error(`${name} is not set; meshproof's k6 driver passes it (see harness/load/k6-driver.ts)`);
  return value;
}

const config = JSON.parse(open(requiredEnv("MESHPROOF_K6_CONFIG"))) as ScriptConfig;
const baseUrl = requiredEnv("MESHPROOF_BASE_URL").replace(/\/$/, "");
// One copy in memory for all VUs, read-only.
const planned = new SharedArray<PlannedRequest>(
  "meshproof planned requests",
  () => JSON.parse(open(requiredEnv("MESHPROOF_K6_REQUESTS"))) as PlannedRequest[],
);
const traceresponses = new Counter("meshproof_traceresponse");

export const options: Options = config.options;

const HEX = "0123456789abcdef";

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/** n random bytes from k6's crypto module (Go's crypto/rand), as lowercase hex; never all zero (invalid in W3C). */
function randomId(n: number): string {
  for (;;) {
    const bytes = new Uint8Array(crypto.randomBytes(n));
    if (bytes.some((b) => b !== 0)) return hex(bytes);
  }
}

/** An RFC 9562 version 4 UUID from 16 random bytes. */
function uuidV4(): string {
  const b = new Uint8Array(crypto.randomBytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export default function (): void {
  // Unique across the whole test, even split over k6-operator runners: iteration i sends planned request i.
  const iteration = exec.scenario.iterationInTest;
  if (iteration >= planned.length) return; // bounded in count: never more than the plan
  const request = planned[iteration]!;
  const id = uuidV4();
  const traceId = randomId(16);
  const spanId = randomId(8);
  const headers: Record<string, string> = { ...request.headers, "X-Request-ID": id };
  if (request.parent !== "none")
    headers.traceparent = `00-${traceId}-${spanId}-${request.parent === "sampled" ? "01" : "00"}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";

  // The ids go on this request's samples as metadata: like tags in the JSON output, but not indexed into time
  // series, which is what k6 provides for per-request (high-cardinality) values such as trace ids.
  const metadata = exec.vu.metrics.metadata;
  metadata.request_id = id;
  metadata.iteration = String(iteration);
  metadata.sent_at_ms = String(Date.now());
  if (headers.traceparent) {
    metadata.trace_id = traceId;
    metadata.parent_span_id = spanId;
  }
  try {
    const response = http.request(request.method, `${baseUrl}${request.path}`, request.body ?? null, {
      headers,
      // Low-cardinality tags: the route template (also as `name`, so the url tag does not carry the sku) and mode.
      tags: { route: request.route, name: request.route, parent: request.parent },
      timeout: config.timeoutMs,
      responseType: "none",
    });
    const traceresponse = header(response.headers, "traceresponse");
    if (traceresponse) {
      metadata.traceresponse = traceresponse;
      traceresponses.add(1, { route: request.route });
    }
  } finally {
    for (const key of ["request_id", "iteration", "sent_at_ms", "trace_id", "parent_span_id", "traceresponse"]) {
      delete metadata[key];
    }
  }
}
