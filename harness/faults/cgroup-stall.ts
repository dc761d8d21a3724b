/**
 * A stall: a group frozen for blockMs at the start of every everyMs, for durationMs at most. Its timers are its
 * point: they are the fault's timing, not waits for something to settle.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../errors";

/** What a stall did, once stopped. */
export interface StallSummary {
  /** How many times the group was frozen. */
  stalls: number;
}

/** Stops a stall: thaws at once if frozen; resolves once thawed (rejects if a freeze or thaw of it failed). */
export type StopStall = () => Promise<StallSummary>;

/** The timing of a stall. */
export interface StallTiming {
  blockMs: number;
  everyMs: number;
  durationMs: number;
}

/**
 * Starts freezing and thawing through `setFrozen` (which resolves once the kernel reports the state); `onEnd` runs
 * once the stall has ended, by its duration, by the returned stop function or by a failure.
 */
export function startStall(
  setFrozen: (frozen: boolean) => Promise<void>,
  timing: StallTiming,
  onEnd: () => void,
): StopStall {
  const { blockMs, everyMs, durationMs } = timing;
  if (!(blockMs > 0 && everyMs > blockMs && durationMs > 0 && Number.isFinite(durationMs)))
    throw new ConfigError(
      `a stall needs 0 < blockMs < everyMs and a finite durationMs > 0 (got ${blockMs}, ${everyMs}, ${durationMs})`,
    );
  const abort = new AbortController();
  const summary: StallSummary = { stalls: 0 };
  const loop = stallLoop(setFrozen, timing, abort.signal, summary).finally(onEnd);
  // Its failure reaches the caller through the stop function; unobserved until then.
  loop.catch(() => undefined);
  return async () => {
    abort.abort();
    await loop;
    return summary;
  };
}

async function stallLoop(
  setFrozen: (frozen: boolean) => Promise<void>,
  { blockMs, everyMs, durationMs }: StallTiming,
  signal: AbortSignal,
  summary: StallSummary,
): Promise<void> {
  const endAtMs = Date.now() + durationMs;
  while (!signal.aborted && Date.now() < endAtMs) {
    const cycleStartMs = Date.now();
    await setFrozen(true);
    summary.stalls++;
    try {
      await pause(Math.min(blockMs, endAtMs - Date.now()), signal);
    } finally {
      await setFrozen(false);
    }
    await pause(Math.min(cycleStartMs + everyMs, endAtMs) - Date.now(), signal);
  }
}

/** Waits ms, or less if the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch((error: unknown) => {
    if (!signal.aborted) throw error;
  });
}
