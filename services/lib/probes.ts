import { monitorEventLoopDelay } from "node:perf_hooks";

/** A probe's JSON body: `{status, checks: {name: {status, latencyMs, error?}}}`. */
export interface ProbeBody {
  status: "ok" | "fail";
  checks: Record<string, { status: "ok" | "fail"; latencyMs: number; error?: string }>;
}

/** One check of a probe: resolves when healthy, throws (with a reason) when not. */
export type Check = (signal: AbortSignal) => Promise<void>;

/** Per-check deadline: a dependency slower than this counts as failed. */
export const CHECK_TIMEOUT_MS = 1_000;

export interface ProbeResult {
  httpStatus: 200 | 503;
  body: ProbeBody;
}

/** Runs every check concurrently with a timeout each; 503 when any fails. */
export async function runChecks(checks: Record<string, Check>, timeoutMs = CHECK_TIMEOUT_MS): Promise<ProbeResult> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = performance.now();
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(controller.signal),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              controller.abort();
              reject(new Error(`timed out after ${timeoutMs} ms`));
            }, timeoutMs);
          }),
        ]);
        return [name, { status: "ok", latencyMs: elapsed(started) }] as const;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [name, { status: "fail", latencyMs: elapsed(started), error: message }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const ok = entries.every(([, r]) => r.status === "ok");
  return { httpStatus: ok ? 200 : 503, body: { status: ok ? "ok" : "fail", checks: Object.fromEntries(entries) } };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** Liveness checks (local only): the event loop answers within maxLagMs and the heap is under its limit. */
export function livenessChecks(options: { heapLimitBytes: number; maxLagMs?: number }): Record<string, Check> {
  const maxLagMs = options.maxLagMs ?? 500;
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    eventLoop: async () => {
      // A probe that waited out a block is read in the poll phase that follows it, before the histogram's timer
      // has recorded the block (libuv runs it on the next timers phase): without this turn the probe read the old
      // p99, then reset() threw the block away, and a periodic stall never failed /healthz under 100 ms probes.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      const p99Ms = histogram.percentile(99) / 1e6;
      histogram.reset();
      if (p99Ms > maxLagMs) throw new Error(`event-loop delay p99 ${p99Ms.toFixed(1)} ms > ${maxLagMs} ms`);
      const started = performance.now();
      await new Promise<void>((resolve) => setImmediate(resolve));
      const turnMs = performance.now() - started;
      if (turnMs > maxLagMs) throw new Error(`event-loop turn took ${turnMs.toFixed(1)} ms > ${maxLagMs} ms`);
    },
    heap: async () => {
      const used = process.memoryUsage().heapUsed;
      if (used > options.heapLimitBytes)
        throw new Error(`heap used ${used} bytes > limit ${options.heapLimitBytes} bytes`);
    },
  };
}

/** A check that a downstream HTTP service answers GET url with 200 (its liveness: readiness must not cascade). */
export function httpCheck(url: string): Check {
  return async (signal) => {
    // fetch (undici) is not patched by the HTTP instrumentation: probe traffic makes no spans.
    const response = await fetch(url, { signal });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  };
}
