import v8 from "node:v8";
import { Worker } from "node:worker_threads";

/**
 * Resource faults: effects on the whole process rather than decisions per request. The admin API validates their
 * specs (AdminFaultSchema in faults.ts); this module only makes and undoes the effect.
 *
 * - memory: holds `mb` MB on the V8 heap (arrays of doubles, not Buffers: Buffer memory is off-heap and would move
 *   RSS but not heapUsed / nodejs_heap_size_used_bytes).
 * - stall: a synchronous busy loop on the main thread for `blockMs` every `everyMs`.
 * - cpu: a worker thread burning `fraction` of one core, duty-cycled in 100 ms periods; the event loop stays free.
 */
export const RESOURCE_KINDS = ["memory", "stall", "cpu"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export type ResourceFaultSpec =
  | { kind: "memory"; mb: number }
  | { kind: "stall"; blockMs: number; everyMs: number }
  | { kind: "cpu"; fraction: number };

/** A running resource effect. */
export interface ResourceEffect {
  /** Resolves once the whole effect is in place (memory held, burning thread running). */
  readonly ready: Promise<void>;
  /**
   * Undoes the effect, synchronously and idempotently: memory released (and collected at once when node runs with
   * --expose-gc, see collectGarbage), no further block, the burning thread told to stop (it stops within
   * microseconds; the thread exits right after).
   */
  stop(): void;
}

/** A spec that is valid but this process cannot apply (e.g. more memory than its heap can hold); 400 naming key. */
export class ResourceFaultError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = "ResourceFaultError";
  }
}

export function isResourceKind(kind: string): kind is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(kind);
}

/** Starts the effect of a (validated) resource fault. */
export function startResourceEffect(spec: ResourceFaultSpec): ResourceEffect {
  switch (spec.kind) {
    case "memory":
      return holdMemory(spec.mb);
    case "stall":
      return stallEventLoop(spec.blockMs, spec.everyMs);
    case "cpu":
      return burnCpu(spec.fraction);
  }
}

const MIB = 1024 * 1024;
/** A double in a JS array takes 8 bytes on the V8 heap (FixedDoubleArray). */
const DOUBLES_PER_MIB = MIB / 8;
/** MB allocated per macrotask: ~15 ms of the event loop, so holding 1 GB does not stall the service. */
const MIB_PER_SLICE = 8;
/** What a memory fault leaves free in the V8 heap: the service must keep working while it holds the rest. */
export const HEAP_HEADROOM_BYTES = 256 * MIB;
/** Bytes memory faults have been granted but not yet allocated (the heap statistics do not show them yet). */
let pendingHeapBytes = 0;

/**
 * Holds `mb` MiB on the V8 heap: 1 MiB arrays of doubles, the first filled, the others copies of it (`slice`
 * copies the double backing store, so every page is written and RSS rises with heapUsed). Allocation runs in
 * slices of MIB_PER_SLICE MiB with a turn of the event loop between them. Refused (ResourceFaultError on `mb`) when
 * the heap limit minus what is in use minus HEAP_HEADROOM_BYTES cannot take it: V8 would abort the process.
 */
export function holdMemory(mb: number): ResourceEffect {
  const { heap_size_limit: limit, used_heap_size: used } = v8.getHeapStatistics();
  const room = limit - used - pendingHeapBytes - HEAP_HEADROOM_BYTES;
  if (mb * MIB > room) {
    throw new ResourceFaultError(
      "mb",
      `${mb} MB does not fit in this process's V8 heap (limit ${Math.floor(limit / MIB)} MB, ` +
        `${Math.ceil((used + pendingHeapBytes) / MIB)} MB in use or promised, ${HEAP_HEADROOM_BYTES / MIB} MB kept ` +
        `free: at most ${Math.max(0, Math.floor(room / MIB))} MB); start node with a larger --max-old-space-size`,
    );
  }
  const state: { chunks: number[][] | undefined; pending: number } = { chunks: [], pending: mb * MIB };
  pendingHeapBytes += state.pending;
  const settle = (allocatedMib: number) => {
    const left = (mb - allocatedMib) * MIB;
    pendingHeapBytes -= state.pending - left;
    state.pending = left;
  };
  const ready = (async () => {
    // new Array(n) starts as small integers; fill(0.5) turns it into doubles (leaving its first 1 MB store as
    // garbage, once). Copies of it are allocated as doubles directly.
    let template: number[] | undefined = new Array<number>(DOUBLES_PER_MIB).fill(0.5);
    state.chunks?.push(template);
    settle(1);
    while (state.chunks && state.chunks.length < mb) {
      for (let i = 0; i < MIB_PER_SLICE && state.chunks.length < mb; i++) state.chunks.push(template.slice());
      settle(state.chunks.length);
      if (state.chunks.length < mb) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!state.chunks) {
      // Reverted while allocating: the template was still referenced here when stop() collected.
      template = undefined;
      collectGarbage();
    }
  })();
  return {
    ready,
    stop() {
      if (!state.chunks) return;
      state.chunks = undefined;
      settle(mb);
      collectGarbage();
    },
  };
}

/**
 * A full garbage collection, so a released memory fault leaves the heap gauge now: global.gc, when node runs with
 * --expose-gc (the mesh starts its Node services so). Without it nothing is forced and the memory goes at V8's next
 * mark-compact: 1 MB arrays live in the large-object space, which only a mark-compact frees, and a lightly loaded
 * process with the mesh's 1 MB young generation went 20 s without one in measurements (Node 24). v8.queryObjects
 * also runs a full GC, but walks the heap after it: 200-800 ms with the kit loaded, a stall of its own.
 */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") return false;
  gc();
  return true;
}

/**
 * Blocks the event loop with a synchronous busy loop for blockMs every everyMs, the first block on the next turn
 * of the loop (after the admin API has answered). Blocks start on a grid of everyMs from the first one; a block
 * whose slot has passed (the loop was busy) is skipped, never run back to back with the previous one.
 */
export function stallEventLoop(blockMs: number, everyMs: number): ResourceEffect {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let anchorMs: number | undefined;
  const block = () => {
    if (stopped) return;
    const started = performance.now();
    anchorMs ??= started;
    while (performance.now() - started < blockMs) {
      // the fault: nothing else runs on this thread meanwhile
    }
    const now = performance.now();
    const nextMs = anchorMs + Math.ceil((now - anchorMs + 1) / everyMs) * everyMs;
    timer = setTimeout(block, nextMs - now);
    timer.unref();
  };
  timer = setTimeout(block, 0);
  timer.unref();
  return {
    ready: Promise.resolve(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Length of one duty cycle of the cpu fault: busy for fraction of it, asleep for the rest. */
export const BURN_PERIOD_MS = 100;

// The burning thread. Each period it spins until it has had busyMs of CPU time (its own thread's, so a machine
// busy with other work does not quietly burn less) or the period is over, then sleeps to the next period with
// Atomics.wait (no event loop needed). It checks the stop flag while spinning, so stop() ends the burn at once.
const BURN_SOURCE = `
const { workerData } = require("node:worker_threads");
const { fraction, periodMs, stop } = workerData;
const busyMs = fraction * periodMs;
const cpuMs = typeof process.threadCpuUsage === "function"
  ? () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }
  : () => performance.now();
let periodStart = performance.now();
while (Atomics.load(stop, 0) === 0) {
  const cpuStart = cpuMs();
  let spins = 0;
  while (performance.now() - periodStart < periodMs && cpuMs() - cpuStart < busyMs) {
    if ((++spins & 255) === 0 && Atomics.load(stop, 0) !== 0) break;
  }
  periodStart += periodMs;
  const idleMs = periodStart - performance.now();
  if (idleMs > 0) Atomics.wait(stop, 0, 0, idleMs);
  else periodStart = performance.now();
}
`;

/**
 * Burns `fraction` of one core on a worker thread: fraction x 100 ms of CPU time, then asleep until the next 100 ms
 * period. The service's own thread is untouched, so requests are served as before, while process CPU time (all
 * threads) rises by `fraction` cores. The worker runs without the parent's execArgv (no --require of the tracing
 * preload in it).
 */
export function burnCpu(fraction: number): ResourceEffect {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(BURN_SOURCE, {
    eval: true,
    execArgv: [],
    name: "meshproof-cpu-fault",
    workerData: { fraction, periodMs: BURN_PERIOD_MS, stop },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("online", () => resolve());
    worker.once("error", reject);
  });
  // A burning thread that dies is an effect that ended, not a reason to crash the service.
  worker.on("error", () => {});
  let stopped = false;
  return {
    ready,
    stop() {
      if (stopped) return;
      stopped = true;
      Atomics.store(stop, 0, 1);
      Atomics.notify(stop, 0);
      worker.terminate().catch(() => {});
    },
  };
}
