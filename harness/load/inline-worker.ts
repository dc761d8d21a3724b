/**
 * The inline driver's schedule, in a worker thread of its own: its timers fire on their own event loop, so the
 * harness's main thread can be busy without making requests late. Started by runInlineLoad (inline-driver.ts).
 */
import crypto from "node:crypto";
import http from "node:http";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { RequestRecord } from "../../assertions/evidence";
import type { PlannedRequest } from "./load-plan";
import { parseTraceresponse, traceparentHeader } from "./trace-context";

export interface InlineWorkerInput {
  baseUrl: string;
  timeoutMs: number;
  requests: PlannedRequest[];
  /** When request i is due, in ms after the worker's start. */
  offsetsMs: number[];
}

export type InlineWorkerMessage =
  | { type: "done"; requests: RequestRecord[]; scheduleDriftMs: number[] }
  | { type: "progress"; sent: number; failed: number };

/** The driver thread's nice value where it may raise its priority (the mesh's processes run at 0). */
const DRIVER_PRIORITY = -10;

/** How often the worker reports its counts to the main thread. */
const PROGRESS_EVERY_MS = 250;

async function run(
  input: InlineWorkerInput,
  stopped: AbortSignal,
  report: (message: InlineWorkerMessage) => void,
): Promise<InlineWorkerMessage> {
  // Requests sent late because the mesh took the cores would measure the machine, not the mesh: where it may (root,
  // CAP_SYS_NICE), this thread runs at a higher priority than the mesh (Linux: nice is per thread; pid 0 is this one).
  try {
    os.setPriority(0, DRIVER_PRIORITY);
  } catch {
    // not allowed here: the drift measured says what that cost
  }
  // The timeout lets the agent honour the server's Keep-Alive hint (see the kit's httpClient).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 60_000 });
  const base = new URL(input.baseUrl);
  const requests: RequestRecord[] = [];
  const scheduleDriftMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();
  let failed = 0;
  const progress = setInterval(
    () => report({ type: "progress", sent: scheduleDriftMs.length, failed }),
    PROGRESS_EVERY_MS,
  );
  try {
    for (let i = 0; i < input.requests.length && !stopped.aborted; i++) {
      const dueAt = startedAt + input.offsetsMs[i]!;
      const waitMs = dueAt - performance.now();
      if (waitMs > 1) await sleep(waitMs, undefined, { signal: stopped }).catch(() => undefined);
      if (stopped.aborted) break;
      scheduleDriftMs.push(performance.now() - dueAt);
      const request = send(agent, base, input.requests[i]!, input.timeoutMs).then((record) => {
        requests.push(record);
        if (record.status === 0 || record.status >= 400) failed++;
        inFlight.delete(request);
      });
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(progress);
    agent.destroy();
  }
  return { type: "done", requests, scheduleDriftMs };
}

function send(agent: http.Agent, base: URL, planned: PlannedRequest, timeoutMs: number): Promise<RequestRecord> {
  const traceId = crypto.randomBytes(16).toString("hex");
  const parentSpanId = crypto.randomBytes(8).toString("hex");
  const id = crypto.randomUUID();
  const traceparent = traceparentHeader(planned.parent, traceId, parentSpanId);
  const body = planned.body;
  const startMs = Date.now();
  const record = (status: number, error?: string, traceresponse?: string): RequestRecord => ({
    id,
    // No traceparent sent: the driver knows no trace id of its own (the server's is in responseTraceId, if told).
    traceId: traceparent ? traceId : "",
    ...(traceparent ? { parentSpanId } : {}),
    route: planned.route,
    startMs,
    endMs: Date.now(),
    status,
    ...(error === undefined ? {} : { error }),
    parent: planned.parent,
    ...parseTraceresponse(traceresponse),
  });
  return new Promise((done) => {
    // The timeout bounds the whole request, a wait for a free socket included (as k6's does), not an idle socket.
    const deadline = setTimeout(() => request.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    const resolve = (r: RequestRecord) => {
      clearTimeout(deadline);
      done(r);
    };
    // The path as the route gives it, byte for byte (a URL string would be normalised and percent-encoded first),
    // after the base URL's own path, if it has one.
    const request = http.request(
      base,
      {
        path: `${base.pathname.replace(/\/$/, "")}${planned.path}`,
        method: planned.method,
        agent,
        headers: {
          ...planned.headers,
          ...(traceparent ? { traceparent } : {}),
          "x-request-id": id,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const traceresponse = response.headers.traceresponse;
        const header = Array.isArray(traceresponse) ? traceresponse[0] : traceresponse;
        response.resume();
        response.once("end", () => resolve(record(response.statusCode ?? 0, undefined, header)));
        response.once("error", (error) => resolve(record(0, error.message, header)));
      },
    );
    request.once("error", (error) => resolve(record(0, error.message)));
    request.end(body);
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const controller = new AbortController();
  port.on("message", (message: { type: string }) => {
    if (message.type === "abort") controller.abort();
  });
  run(workerData as InlineWorkerInput, controller.signal, (message) => port.postMessage(message)).then(
    (result) => port.postMessage(result), // runInlineLoad terminates the worker once it has the result
    (error: unknown) => {
      throw error;
    },
  );
}
