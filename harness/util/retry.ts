import { setTimeout as sleep } from "node:timers/promises";
import { ReadinessTimeoutError } from "../errors";

export interface RetryOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** What is being awaited, for the error message ("Prometheus /-/ready on 127.0.0.1:9090"). */
  description: string;
  /** First delay between attempts; doubles up to maxDelayMs. Default 5. */
  initialDelayMs?: number;
  /** Default 250. */
  maxDelayMs?: number;
  /** Aborts the wait early (the abort reason is thrown). */
  signal?: AbortSignal;
  /** Extra text for the timeout message, computed only on timeout (e.g. the last log lines). */
  onTimeout?: () => Promise<string> | string;
  /** Stop early with this error when it returns one (e.g. the process being awaited has exited). */
  failFast?: () => Error | undefined;
}

/**
 * Calls fn until predicate(result) holds, with exponential backoff and a deadline. Errors thrown by fn count as
 * "not yet". On timeout throws ReadinessTimeoutError naming what was awaited, for how long, and what was last seen.
 */
export async function retryUntil<T>(
  fn: () => Promise<T>,
  predicate: (value: T) => boolean,
  options: RetryOptions,
): Promise<T> {
  const started = Date.now();
  let delayMs = options.initialDelayMs ?? 5;
  const maxDelayMs = options.maxDelayMs ?? 250;
  let last: string = "no attempt finished";
  for (;;) {
    options.signal?.throwIfAborted();
    const fatal = options.failFast?.();
    if (fatal) throw fatal;
    try {
      const value = await fn();
      if (predicate(value)) return value;
      last = `last value: ${describe(value)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    const elapsedMs = Date.now() - started;
    if (elapsedMs >= options.timeoutMs) {
      const extra = options.onTimeout ? await options.onTimeout() : "";
      throw new ReadinessTimeoutError(
        `${options.description} did not happen within ${options.timeoutMs} ms (${last})${extra ? `; ${extra}` : ""}`,
      );
    }
    await sleep(Math.min(delayMs, options.timeoutMs - elapsedMs), undefined, { signal: options.signal });
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

function describe(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
