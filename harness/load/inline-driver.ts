import crypto from "node:crypto";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { RequestRecord } from "../../assertions/evidence";
import { createRng } from "../util/rng";
import type { RouteCatalog, RouteRequest } from "./routes";

export interface LoadPlan {
  /** Constant arrival rate (open model: a slow response never delays the next request). */
  ratePerSec: number;
  durationMs: number;
  /** Route names of the catalog with relative weights. */
  routes: readonly { route: string; weight: number }[];
  seed: number;
  /** Per-request deadline; a request without a response by then is recorded with status 0. Default 10000. */
  timeoutMs?: number;
}

export interface LoadResult {
  requests: RequestRecord[];
  /** How late each request left against its schedule, in ms (the driver's own accuracy). */
  scheduleDriftMs: number[];
}

/**
 * Sends plan.ratePerSec * plan.durationMs / 1000 requests on a fixed schedule, each with a fresh sampled W3C
 * traceparent and X-Request-ID, and records every one: the request log is the run's ground truth. Bounded in count
 * and time; an aborted signal stops scheduling and waits only for requests already sent.
 */
export async function runInlineLoad(
  plan: LoadPlan,
  target: { baseUrl: string; routes: RouteCatalog },
  signal?: AbortSignal,
): Promise<LoadResult> {
  const rng = createRng(plan.seed);
  const total = Math.floor((plan.ratePerSec * plan.durationMs) / 1000);
  const intervalMs = 1000 / plan.ratePerSec;
  const pick = weightedPicker(plan.routes, rng.next);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const requests: RequestRecord[] = [];
  const scheduleDriftMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();

  try {
    for (let i = 0; i < total && !signal?.aborted; i++) {
      const dueAt = startedAt + i * intervalMs;
      const waitMs = dueAt - performance.now();
      if (waitMs > 1) await sleep(waitMs, undefined, { signal }).catch(() => undefined);
      if (signal?.aborted) break;
      scheduleDriftMs.push(performance.now() - dueAt);
      const route = pick();
      const build = target.routes[route];
      if (!build) throw new Error(`no request builder for route "${route}"`);
      const request = send(agent, target.baseUrl, route, build(rng), plan.timeoutMs ?? 10_000).then((record) => {
        requests.push(record);
        inFlight.delete(request);
      });
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  requests.sort((a, b) => a.startMs - b.startMs);
  return { requests, scheduleDriftMs };
}

function weightedPicker(routes: LoadPlan["routes"], random: () => number): () => string {
  const total = routes.reduce((sum, r) => sum + r.weight, 0);
  return () => {
    let x = random() * total;
    for (const r of routes) if ((x -= r.weight) < 0) return r.route;
    return routes.at(-1)!.route;
  };
}

function send(
  agent: http.Agent,
  baseUrl: string,
  route: string,
  req: RouteRequest,
  timeoutMs: number,
): Promise<RequestRecord> {
  const traceId = crypto.randomBytes(16).toString("hex");
  const parentSpanId = crypto.randomBytes(8).toString("hex");
  const id = crypto.randomUUID();
  const body = req.body === undefined ? undefined : JSON.stringify(req.body);
  const startMs = Date.now();
  const record = (status: number, error?: string): RequestRecord => ({
    id,
    traceId,
    parentSpanId,
    route,
    startMs,
    endMs: Date.now(),
    status,
    ...(error === undefined ? {} : { error }),
  });
  return new Promise((resolve) => {
    const request = http.request(
      `${baseUrl}${req.path}`,
      {
        method: req.method,
        agent,
        timeout: timeoutMs,
        headers: {
          traceparent: `00-${traceId}-${parentSpanId}-01`,
          "x-request-id": id,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (response) => {
        response.resume();
        response.once("end", () => resolve(record(response.statusCode ?? 0)));
        response.once("error", (error) => resolve(record(0, error.message)));
      },
    );
    request.once("timeout", () => request.destroy(new Error(`no response within ${timeoutMs} ms`)));
    request.once("error", (error) => resolve(record(0, error.message)));
    request.end(body);
  });
}
