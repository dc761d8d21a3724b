import { setTimeout as sleep } from "node:timers/promises";
import type { Trace } from "../../assertions/trace-model";
import type { TraceStore } from "../backends/trace-store";

/** A trace to collect and the span count its request's route and outcome imply (min 0: must not exist). */
export interface ExpectedTrace {
  traceId: string;
  /** Spans the trace must reach before it counts as arrived; 0 for a request sent unsampled. */
  minSpans: number;
}

export interface TraceCollectionOptions {
  /** Give up on traces not found or still growing after this long. Default 20000. */
  deadlineMs?: number;
  /** Concurrent queries. Default 16. */
  concurrency?: number;
  /**
   * The services' span export interval: a trace is settled when two reads at least this far apart see the same
   * span count (a late batch would land in between). Default 1000.
   */
  exportIntervalMs?: number;
}

export interface TraceCollection {
  traces: Record<string, Trace | undefined>;
  /** Query passes made, for the report. */
  passes: number;
  /** Trace ids still short of their expected span count at the deadline. */
  short: string[];
  /** How long until every trace had its expected span count, and until it was confirmed stable. */
  arrivedMs: number;
  settledMs: number;
}

/**
 * Fetches every trace until it holds the spans its request implies (its route's hops up to where it failed), then
 * confirms the count with a read at least one export interval later; traces that changed are read again, until
 * the deadline. "Not yet there" (fewer spans than expected) is told apart from "never there" by the deadline.
 * Traces expected to be absent (unsampled requests) are read once, in the confirming pass. Call after the services
 * have flushed their span processors.
 */
export async function collectTraces(
  store: TraceStore,
  expected: readonly ExpectedTrace[],
  options: TraceCollectionOptions = {},
): Promise<TraceCollection> {
  const started = Date.now();
  const deadline = started + (options.deadlineMs ?? 20_000);
  const intervalMs = options.exportIntervalMs ?? 1_000;
  const concurrency = options.concurrency ?? 16;
  const traces: Record<string, Trace | undefined> = {};
  const counts = new Map<string, number>();
  const readAt = new Map<string, number>();
  const queryErrors = new Map<string, string>();
  let passes = 0;

  const read = async (ids: readonly string[]) => {
    passes++;
    await forEachConcurrently(ids, concurrency, async (id) => {
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
      traces[id] = trace;
      counts.set(id, trace?.spans.length ?? 0);
      readAt.set(id, Date.now());
    });
  };

  const minimum = new Map<string, number>();
  for (const e of expected) minimum.set(e.traceId, Math.max(minimum.get(e.traceId) ?? 0, e.minSpans));
  const all = [...minimum.keys()];
  for (const id of all) traces[id] = undefined;

  // Arrival: every sampled trace reaches its expected span count.
  let waiting = all.filter((id) => minimum.get(id)! > 0);
  let delayMs = 5;
  while (waiting.length > 0) {
    await read(waiting);
    waiting = waiting.filter((id) => counts.get(id)! < minimum.get(id)!);
    if (waiting.length === 0 || Date.now() >= deadline) break;
    await sleep(Math.min(delayMs, Math.max(0, deadline - Date.now())));
    delayMs = Math.min(delayMs * 2, 250);
  }
  const arrivedMs = Date.now() - started;

  // Stability: re-read everything at least one export interval after its last read; repeat for what changed.
  let unconfirmed = all;
  while (unconfirmed.length > 0 && Date.now() < deadline) {
    // A trace expected absent and never read yet counts as read empty: one read that finds nothing confirms it.
    const before = new Map(unconfirmed.map((id) => [id, counts.get(id) ?? 0]));
    const latest = Math.max(...unconfirmed.map((id) => readAt.get(id) ?? 0));
    await sleep(Math.max(0, Math.min(latest + intervalMs - Date.now(), deadline - Date.now())));
    await read(unconfirmed);
    unconfirmed = unconfirmed.filter((id) => counts.get(id) !== before.get(id));
  }

  const failed = all.filter((id) => queryErrors.has(id));
  if (failed.length > 0) {
    // A trace store that errors is a broken backend, not evidence that the mesh lost traces.
    throw new Error(
      `the trace store failed to answer for ${failed.length} of ${all.length} trace ids until the deadline ` +
        `(last error: ${queryErrors.get(failed[0]!)}); check the Jaeger log in the run directory`,
    );
  }
  return {
    traces,
    passes,
    short: all.filter((id) => counts.get(id)! < minimum.get(id)!),
    arrivedMs,
    settledMs: Date.now() - started,
  };
}

async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
