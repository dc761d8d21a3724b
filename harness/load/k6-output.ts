/**
 * Pure pieces of the k6 driver: the scenario (executor) a load plan maps to, the meaning of k6's exit codes, and the
 * parser that turns `k6 run --out json=FILE` lines into the request log. No processes, no files.
 */
import type { RequestRecord } from "../../assertions/evidence";
import { arrivalOffsetsMs, parseTraceresponse, peakRatePerSec, type LoadPlan, type ParentMode } from "./load-plan";

// ---------------------------------------------------------------------------------------------------------------
// Executors

/** k6's constant-arrival-rate / ramping-arrival-rate scenario options, as k6 reads them (see @types/k6 options). */
export type K6Scenario =
  | {
      executor: "constant-arrival-rate";
      rate: number;
      timeUnit: string;
      duration: string;
      preAllocatedVUs: number;
      maxVUs: number;
      gracefulStop: string;
    }
  | {
      executor: "ramping-arrival-rate";
      startRate: number;
      timeUnit: string;
      stages: { duration: string; target: number }[];
      preAllocatedVUs: number;
      maxVUs: number;
      gracefulStop: string;
    };

export interface K6SizingOptions {
  /** Typical response time the VU pool is sized for (VUs busy at once = rate x latency). Default 100. */
  expectedLatencyMs?: number;
  /** Upper bound on VUs k6 may add when responses are slow (each VU is a JS runtime). Default 1000. */
  maxVUsCap?: number;
}

/**
 * The open-model scenario for a plan: constant-arrival-rate for a constant rate, ramping-arrival-rate when the plan
 * has stages. k6 rates are integers per timeUnit, so a fractional rate is expressed per 10 s, 100 s or 1000 s.
 * preAllocatedVUs covers rate x expected latency twice over (at least 10: a VU added mid-run takes a while, and
 * iterations due meanwhile are dropped); maxVUs covers rate x the request timeout (every request still waiting at its
 * deadline), capped. A start that finds no free VU is a dropped iteration, which the
 * driver reports (k6's dropped_iterations), never a late request.
 */
export function k6Scenario(plan: LoadPlan, sizing: K6SizingOptions = {}): K6Scenario {
  const rates = plan.stages ? [plan.ratePerSec, ...plan.stages.map((s) => s.targetRatePerSec)] : [plan.ratePerSec];
  const perUnit = [1, 10, 100, 1000].find((m) => rates.every((r) => isWhole(r * m))) ?? 1000;
  const scaled = (rate: number) => Math.round(rate * perUnit);
  const peak = peakRatePerSec(plan);
  const timeoutMs = plan.timeoutMs ?? 10_000;
  const cap = sizing.maxVUsCap ?? 1000;
  const preAllocatedVUs = Math.min(cap, Math.max(10, Math.ceil((peak * (sizing.expectedLatencyMs ?? 100) * 2) / 1000)));
  const maxVUs = Math.max(preAllocatedVUs, Math.min(cap, Math.ceil((peak * timeoutMs) / 1000)));
  const common = {
    timeUnit: `${perUnit}s`,
    preAllocatedVUs,
    maxVUs,
    // Requests still in flight at the end get their full timeout (plus a margin) to finish and be recorded.
    gracefulStop: `${timeoutMs + 1000}ms`,
  };
  if (!plan.stages) {
    return {
      executor: "constant-arrival-rate",
      rate: scaled(plan.ratePerSec),
      duration: `${plan.durationMs}ms`,
      ...common,
    };
  }
  return {
    executor: "ramping-arrival-rate",
    startRate: scaled(plan.ratePerSec),
    stages: plan.stages.map((s) => ({ duration: `${s.durationMs}ms`, target: scaled(s.targetRatePerSec) })),
    ...common,
  };
}

function isWhole(x: number): boolean {
  return Math.abs(x - Math.round(x)) < 1e-9;
}

// ---------------------------------------------------------------------------------------------------------------
// Exit codes

export type K6Outcome =
  "passed" | "thresholds-failed" | "marked-failed" | "aborted" | "script-error" | "usage-error" | "error";

/** k6's exit codes (errext/exitcodes in k6 v1.8.1) that the driver tells apart. */
export const K6_EXIT = {
  thresholdsHaveFailed: 99,
  invalidConfig: 104,
  externalAbort: 105,
  scriptException: 107,
  scriptAborted: 108,
  markedAsFailed: 110,
  /** cobra's usage errors (unknown flag, missing argument) exit with -1, i.e. 255. */
  usage: 255,
} as const;

/**
 * What a k6 exit means for meshproof: 0 passed; 1 a judged failure (a threshold crossed, or the script marked the
 * test failed); 2 anything that is not a verdict on the mesh (script or usage error, invalid config, aborted,
 * killed, any other k6 error).
 */
export function mapK6Exit(
  code: number | null,
  signal: string | null = null,
): { outcome: K6Outcome; exitCode: 0 | 1 | 2 } {
  if (signal !== null || code === K6_EXIT.externalAbort) return { outcome: "aborted", exitCode: 2 };
  switch (code) {
    case 0:
      return { outcome: "passed", exitCode: 0 };
    case K6_EXIT.thresholdsHaveFailed:
      return { outcome: "thresholds-failed", exitCode: 1 };
    case K6_EXIT.markedAsFailed:
      return { outcome: "marked-failed", exitCode: 1 };
    case K6_EXIT.scriptException:
    case K6_EXIT.scriptAborted:
      return { outcome: "script-error", exitCode: 2 };
    case K6_EXIT.invalidConfig:
    case K6_EXIT.usage:
    case -1:
      return { outcome: "usage-error", exitCode: 2 };
    default:
      return { outcome: "error", exitCode: 2 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Summary (--summary-export)

export interface K6Threshold {
  metric: string;
  /** The threshold expression, e.g. "p(95)<500". */
  expression: string;
  ok: boolean;
}

/**
 * The thresholds of a `--summary-export` file. In that (legacy) format each threshold maps to whether it failed:
 * `"thresholds": { "p(95)<500": false }` is a threshold that held.
 */
export function thresholdsOf(summary: unknown): K6Threshold[] {
  const metrics = (summary as { metrics?: Record<string, { thresholds?: Record<string, boolean> }> })?.metrics ?? {};
  return Object.entries(metrics).flatMap(([metric, m]) =>
    Object.entries(m.thresholds ?? {}).map(([expression, failed]) => ({ metric, expression, ok: !failed })),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Per-request output (--out json)

/** One line of `k6 run --out json=FILE` of type "Point". */
interface K6Point {
  metric: string;
  type: "Point";
  data: { time: string; value: number; tags: Record<string, string> | null; metadata?: Record<string, string> };
}

/** The HTTP timing phases k6 records per request; their sum is the time from asking for a connection to the end. */
const PHASES = [
  "http_req_blocked",
  "http_req_connecting",
  "http_req_tls_handshaking",
  "http_req_sending",
  "http_req_waiting",
  "http_req_receiving",
] as const;

interface PendingRequest {
  id: string;
  iteration?: number;
  traceId?: string;
  parentSpanId?: string;
  sentAtMs?: number;
  tags?: Record<string, string>;
  endMs?: number;
  phasesMs: number;
  traceresponse?: string;
}

export interface K6RequestRecord extends RequestRecord {
  /** The k6 iteration (exec.scenario.iterationInTest) that sent it: the index of the planned request. */
  iteration: number;
  /** "trail": start from k6's per-phase timings (µs); "script": start from the script's Date.now() (ms). */
  startFrom: "trail" | "script";
}

export interface ParsedK6Output {
  requests: K6RequestRecord[];
  /** Sum of k6's dropped_iterations: starts the executor skipped because no VU was free. */
  droppedIterations: number;
  /** Sum of k6's iterations (including the ones past the plan's end, which send nothing). */
  iterations: number;
  /** Lines that were not JSON (a run killed mid-write leaves at most one). */
  malformedLines: number;
}

/**
 * Turns k6's JSON output into the request log, one record per request the script sent (identified by the
 * `request_id` metadata the script sets). Times, as k6 defines them (lib/netext/httpext/tracer.go):
 *
 * - every http_req_* sample of a request carries the same time, the trail's EndTime: when the response was read in
 *   full or the request failed. That is endMs.
 * - startMs = endMs - (blocked + connecting + tls_handshaking + sending + waiting + receiving): the instant the
 *   transport asked for a connection, which precedes the first byte on the wire.
 * - a request that failed before any phase was timed (connection refused) has all phases 0; its start is the
 *   script's Date.now() just before http.request (metadata sent_at_ms), at ms resolution.
 *
 * Feed lines with push() (any order), then finish().
 */
export class K6OutputParser {
  private readonly byId = new Map<string, PendingRequest>();
  private dropped = 0;
  private iterations = 0;
  private malformed = 0;
  private answered = 0;
  private failed = 0;

  push(line: string): void {
    if (!line.trim()) return;
    let point: K6Point;
    try {
      point = JSON.parse(line) as K6Point;
    } catch {
      this.malformed++;
      return;
    }
    if (point.type !== "Point") return;
    const { metric, data } = point;
    if (metric === "dropped_iterations") this.dropped += data.value;
    if (metric === "iterations") this.iterations += data.value;
    if (metric === "http_reqs") {
      this.answered++;
      const status = Number(data.tags?.status ?? 0);
      if (!(status > 0 && status < 400)) this.failed++;
    }
    const id = data.metadata?.request_id;
    if (!id) return;
    const p = this.byId.get(id) ?? { id, phasesMs: 0 };
    this.byId.set(id, p);
    const meta = data.metadata!;
    if (meta.iteration !== undefined) p.iteration = Number(meta.iteration);
    if (meta.trace_id) p.traceId = meta.trace_id;
    if (meta.parent_span_id) p.parentSpanId = meta.parent_span_id;
    if (meta.sent_at_ms) p.sentAtMs = Number(meta.sent_at_ms);
    if (metric === "meshproof_traceresponse") {
      p.traceresponse = meta.traceresponse;
      return;
    }
    if (!metric.startsWith("http_req")) return;
    p.tags ??= data.tags ?? {};
    p.endMs ??= parseGoTimeMs(data.time);
    if ((PHASES as readonly string[]).includes(metric)) p.phasesMs += data.value;
  }

  /** Requests k6 has finished so far (answered or not), and those with no response or a status >= 400. */
  counts(): { sent: number; failed: number } {
    return { sent: this.answered, failed: this.failed };
  }

  finish(): ParsedK6Output {
    const requests: K6RequestRecord[] = [];
    for (const p of this.byId.values()) {
      if (p.endMs === undefined || !p.tags) continue; // only a traceresponse sample survived a killed write
      const tags = p.tags;
      const trail = p.phasesMs > 0;
      const startMs = trail ? p.endMs - p.phasesMs : Math.min(p.sentAtMs ?? p.endMs, p.endMs);
      const status = Number(tags.status ?? 0);
      requests.push({
        id: p.id,
        traceId: p.traceId ?? "",
        ...(p.parentSpanId ? { parentSpanId: p.parentSpanId } : {}),
        route: tags.route ?? `${tags.method ?? "?"} ${tags.url ?? "?"}`,
        startMs: round3(startMs),
        endMs: round3(p.endMs),
        status: Number.isFinite(status) ? status : 0,
        ...(tags.error
          ? { error: tags.error_code ? `${tags.error} (k6 error code ${tags.error_code})` : tags.error }
          : {}),
        ...(tags.parent ? { parent: tags.parent as ParentMode } : {}),
        ...parseTraceresponse(p.traceresponse),
        iteration: p.iteration ?? -1,
        startFrom: trail ? "trail" : "script",
      });
    }
    requests.sort((a, b) => a.startMs - b.startMs);
    return { requests, droppedIterations: this.dropped, iterations: this.iterations, malformedLines: this.malformed };
  }
}

/** Parses all lines at once (tests, small outputs). */
export function parseK6Output(lines: Iterable<string>): ParsedK6Output {
  const parser = new K6OutputParser();
  for (const line of lines) parser.push(line);
  return parser.finish();
}

/** Go's RFC 3339 time with nanoseconds ("2026-11-21T23:21:54.973709149Z") as epoch ms, keeping the fraction. */
export function parseGoTimeMs(value: string): number {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!match) throw new Error(`not an RFC 3339 time from k6: ${JSON.stringify(value)}`);
  return Date.parse(`${match[1]}${match[3]}`) + Number(`0${match[2] ?? ".0"}`) * 1000;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * k6's schedule accuracy, from the plan: request i was due at t0 + offset(i); t0 (k6's own start) is not in the
 * output, so it is taken as the earliest (start - offset) of all requests, and each drift is relative to that.
 */
export function k6ScheduleDriftMs(plan: LoadPlan, requests: readonly K6RequestRecord[]): number[] {
  const offsets = arrivalOffsetsMs(plan);
  const lags = requests
    .filter((r) => r.iteration >= 0 && r.iteration < offsets.length)
    .map((r) => r.startMs - offsets[r.iteration]!);
  if (lags.length === 0) return [];
  const t0 = Math.min(...lags);
  return lags.map((lag) => round3(lag - t0));
}
