import path from "node:path";
import { Worker } from "node:worker_threads";
import type { RequestRecord } from "../../assertions/evidence";
import type { OnLoadProgress } from "./progress";
import { arrivalOffsetsMs, planRequests, type LoadPlan } from "./load-plan";
import type { RouteCatalog } from "./routes";
import type { InlineWorkerInput, InlineWorkerMessage } from "./inline-worker";

export type { LoadPlan } from "./load-plan";

export interface LoadResult {
  requests: RequestRecord[];
  /** How late each request left against its schedule, in ms (the driver's own accuracy). */
  scheduleDriftMs: number[];
  /** The 99th percentile of scheduleDriftMs. */
  scheduleDriftP99Ms: number;
}

/** Where a load run sends its requests: the edge's base URL and how to build a request for each route name. */
export interface LoadTarget {
  baseUrl: string;
  routes: RouteCatalog;
}

/**
 * Sends the plan's requests (plan.ratePerSec for plan.durationMs, or the plan's stages) on a fixed schedule, each
 * with a fresh W3C traceparent (sampled unless plan.traceparent says otherwise) and X-Request-ID, and records every
 * one: the request log is the run's ground truth. The schedule runs in a worker thread, so a busy main event loop
 * (evidence collection, fault scheduling, a slow assertion) does not delay requests. Bounded in count and time; an
 * aborted signal stops scheduling, waits only for requests already sent, and returns what was recorded. onProgress
 * hears the counts a few times a second.
 */
export async function runInlineLoad(
  plan: LoadPlan,
  target: LoadTarget,
  signal?: AbortSignal,
  onProgress?: OnLoadProgress,
): Promise<LoadResult> {
  // Routes are decided here from the seed (the catalog's builders are functions); the worker gets them as data.
  const input: InlineWorkerInput = {
    baseUrl: target.baseUrl,
    timeoutMs: plan.timeoutMs ?? 10_000,
    requests: planRequests(plan, target.routes),
    offsetsMs: arrivalOffsetsMs(plan),
  };
  if (signal?.aborted) return { requests: [], scheduleDriftMs: [], scheduleDriftP99Ms: 0 };
  const worker = new Worker(path.join(__dirname, "inline-worker.js"), { workerData: input });
  const onAbort = () => worker.postMessage({ type: "abort" });
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const done = await new Promise<Extract<InlineWorkerMessage, { type: "done" }>>((resolve, reject) => {
      worker.on("message", (message: InlineWorkerMessage) => {
        if (message.type === "done") resolve(message);
        else onProgress?.({ planned: input.requests.length, sent: message.sent, failed: message.failed });
      });
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`the inline load worker exited with code ${code} before it finished`)),
      );
    });
    const requests = done.requests.sort((a, b) => a.startMs - b.startMs);
    return {
      requests,
      scheduleDriftMs: done.scheduleDriftMs,
      scheduleDriftP99Ms: percentileOf(done.scheduleDriftMs, 0.99),
    };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await worker.terminate();
  }
}

/** Nearest-rank percentile (p in [0, 1]), 3 decimals; 0 for no values. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(3));
}
