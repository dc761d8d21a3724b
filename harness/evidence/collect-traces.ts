import { setTimeout as sleep } from "node:timers/promises";
import type { Trace } from "../../assertions/trace-model";
import type { TraceStore } from "../backends/trace-store";

export interface TraceCollectionOptions {
  /** Give up on traces not found or still growing after this long. Default 20000. */
  deadlineMs?: number;
  /** Concurrent queries. Default 16. */
  concurrency?: number;
}

export interface TraceCollection {
  traces: Record<string, Trace | undefined>;
  /** Query passes made, for the report. */
  passes: number;
  /** Trace ids the store answered "not found" for until the deadline ("never there", not "not yet there"). */
  missing: string[];
}

/**
 * Fetches every trace by id until it is settled: found, and with the same span count in two consecutive passes.
 * Passes repeat only for unsettled traces, with backoff from 5 ms, until the deadline. Call after the services
 * have flushed their span processors.
 */
export async function collectTraces(
  store: TraceStore,
  traceIds: readonly string[],
  options: TraceCollectionOptions = {},
): Promise<TraceCollection> {
  const deadline = Date.now() + (options.deadlineMs ?? 20_000);
  const traces: Record<string, Trace | undefined> = Object.fromEntries(traceIds.map((id) => [id, undefined]));
  const lastCount = new Map<string, number>();
  const queryErrors = new Map<string, string>();
  let unsettled = [...new Set(traceIds)];
  let passes = 0;
  let delayMs = 5;
  while (unsettled.length > 0) {
    passes++;
    const stillUnsettled: string[] = [];
    await forEachConcurrently(unsettled, options.concurrency ?? 16, async (id) => {
      const trace = await store.getTrace(id).then(
        (found) => {
          queryErrors.delete(id);
          return found;
        },
        (error: Error) => {
          queryErrors.set(id, error.message);
          return undefined;
        },
      );
      const count = trace?.spans.length ?? 0;
      if (trace) traces[id] = trace;
      if (count === 0 || lastCount.get(id) !== count) stillUnsettled.push(id);
      lastCount.set(id, count);
    });
    unsettled = stillUnsettled;
    if (unsettled.length === 0 || Date.now() >= deadline) break;
    // The first repeat pass only confirms counts; later ones wait for late spans.
    if (passes > 1) await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())));
    delayMs = Math.min(delayMs * 2, 500);
  }
  const missing = unsettled.filter((id) => traces[id] === undefined);
  const failed = missing.filter((id) => queryErrors.has(id));
  if (failed.length > 0) {
    // A trace store that errors is a broken backend, not evidence that the mesh lost traces.
    throw new Error(
      `the trace store failed to answer for ${failed.length} of ${traceIds.length} trace ids until the deadline ` +
        `(last error: ${queryErrors.get(failed[0]!)}); check the Jaeger log in the run directory`,
    );
  }
  return { traces, passes, missing };
}

async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
