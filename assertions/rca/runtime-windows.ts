import type { ServiceInfo } from "../evidence";
import type { RcaContext } from "./context";
import type { RuntimeWindow, Suspect } from "./model";
import { round } from "./numbers";
import type { Tuning } from "./options";
import { runtimeNames, runtimeOf, seriesPoints } from "./runtime";

/** One scrape interval of one service: its CPU (cores) and share of the mesh's, and how far its heap rose. */
interface Interval {
  /** The interval's end (the scrape that closes it). */
  ms: number;
  startMs: number;
  cores?: number;
  share?: number;
  /** Its CPU above what the rest of the mesh's CPU (the load) predicts from steady state, as a share of the total. */
  excessShare?: number;
  /** The heap's rise and size, by series: used (live objects) and total (what V8 reserved to hold them). */
  heap: Partial<Record<HeapSeries, { riseBytes: number; bytes: number }>>;
}

/**
 * A held allocation shows in the heap used, unless a collection of the garbage it displaced hides it (a 64 MB hold
 * rose the heap used only 11-26 MB in 3 of 16 catalog runs); V8 must still grow the heap's total to hold it (62-63
 * MB there, at most 4.3 MB in any interval of 28 runs without a memory fault).
 */
type HeapSeries = "used" | "total";
const HEAP_SERIES: readonly HeapSeries[] = ["used", "total"];

/** Samples up to one scrape after the load still describe it (the range query's 1 s step). */
const STEP_MS = 1_000;
/** A runtime window's score reaches 1 at this rise of the service's share of the mesh's CPU... */
const FULL_SHARE_RISE = 0.5;
/** ...or at this heap rise. */
const FULL_HEAP_RISE_BYTES = 128 * 2 ** 20;
/** A runtime window on a caller, overlapping a window on a service below it that began no later, counts this much. */
const CONSEQUENCE_FACTOR = 0.5;

/**
 * Where a service's runtime moved away from its own steady state, found from telemetry alone (the fault journal only
 * scores): CPU, as the service's share of the whole mesh's CPU (load moves every service's CPU together; a fault on
 * one moves its share), and a heap rise in one scrape interval far above what the requests of that interval allocate.
 * Steady state is the scrapes before the load and in its first `steadyMinMs`. A window on a service whose callee
 * (deeper in the call graph) has one that began no earlier is ranked as a consequence of it.
 */
export function detectRuntimeWindows(ctx: RcaContext, o: Tuning): RuntimeWindow[] {
  const { startMs: loadStart, endMs: loadEnd } = ctx.evidence.window;
  const perService = new Map<string, Interval[]>();
  for (const service of ctx.evidence.services) perService.set(service.name, intervals(ctx, service));
  // The mesh's CPU per interval: each service's share is of this total.
  const total = new Map<number, number>();
  for (const list of perService.values())
    for (const i of list) if (i.cores !== undefined) total.set(i.ms, (total.get(i.ms) ?? 0) + i.cores);
  const requestsIn = (from: number, to: number) =>
    ctx.evidence.requests.filter((r) => r.startMs > from && r.startMs <= to).length;

  const windows: RuntimeWindow[] = [];
  for (const [name, list] of perService) {
    for (const i of list) if (i.cores !== undefined && total.get(i.ms)) i.share = i.cores / total.get(i.ms)!;
    const steady = list.filter((i) => i.ms <= loadStart + o.steadyMinMs + STEP_MS / 2);
    const steadyShare = mean(steady.flatMap((i) => (i.share === undefined ? [] : [i.share])));
    const steadyCores = mean(steady.flatMap((i) => (i.cores === undefined ? [] : [i.cores])));
    const othersAt = (i: Interval) => (total.get(i.ms) ?? 0) - (i.cores ?? 0);
    const steadyOthers = mean(steady.flatMap((i) => (i.cores === undefined ? [] : [othersAt(i)])));
    const judged = list.filter((i) => i.ms > loadStart + o.steadyMinMs + STEP_MS / 2 && i.ms <= loadEnd + STEP_MS);
    const flagged: { i: Interval; cpu: boolean; heap: boolean; held: HeapSeries[] }[] = [];
    // A smaller rise held over two scrape intervals in a row (a one-interval spike is noise, a burn lasts).
    const sustained = (i: Interval | undefined) =>
      i?.share !== undefined &&
      i.cores !== undefined &&
      i.share - steadyShare! >= o.cpuSustainedShareRise &&
      i.cores - steadyCores! >= o.cpuSustainedCoresRise;
    for (const [k, i] of judged.entries()) {
      let cpu = false;
      if (steadyShare !== undefined && steadyCores !== undefined && i.share !== undefined && i.cores !== undefined) {
        // Its share of the mesh's CPU rose...
        const shareUp = i.share - steadyShare >= o.cpuShareRise && i.cores - steadyCores >= o.cpuCoresRise;
        // ...or (a busy service, whose steady share is already large) its CPU beyond what the others' predicts.
        const excess = steadyOthers ? i.cores - steadyCores * (othersAt(i) / steadyOthers) : 0;
        i.excessShare = excess / total.get(i.ms)!;
        const excessUp = excess >= o.cpuExcessCores && i.excessShare >= o.cpuExcessShare;
        cpu = shareUp || excessUp || (sustained(i) && (sustained(judged[k - 1]) || sustained(judged[k + 1])));
      }
      const held = HEAP_SERIES.filter((kind) => {
        const rise = i.heap[kind]?.riseBytes ?? 0;
        return rise >= o.heapRiseBytes && rise / Math.max(1, requestsIn(i.startMs, i.ms)) >= o.heapBytesPerRequest;
      });
      if (cpu || held.length) flagged.push({ i, cpu, heap: held.length > 0, held });
    }
    // A held heap stays flagged while that series stays above half its rise (the rise itself happens in one interval).
    for (const f of [...flagged])
      for (const kind of f.held) {
        const floor = f.i.heap[kind]!.bytes - f.i.heap[kind]!.riseBytes / 2;
        for (const next of judged.filter((i) => i.ms > f.i.ms)) {
          if ((next.heap[kind]?.bytes ?? 0) < floor) break;
          if (!flagged.some((x) => x.i === next)) flagged.push({ i: next, cpu: false, heap: true, held: [] });
        }
      }
    flagged.sort((a, b) => a.i.ms - b.i.ms);
    // Flagged intervals at most one quiet interval apart make one window.
    const runs: (typeof flagged)[] = [];
    for (const f of flagged) {
      const run = runs.at(-1);
      if (run && f.i.startMs - run.at(-1)!.i.ms <= STEP_MS) run.push(f);
      else runs.push([f]);
    }
    for (const run of runs) {
      const shareRise = Math.max(
        0,
        ...run.filter((f) => f.cpu).map((f) => Math.max(f.i.share! - steadyShare!, f.i.excessShare ?? 0)),
      );
      const heapRise = Math.max(0, ...run.flatMap((f) => f.held.map((kind) => f.i.heap[kind]!.riseBytes)));
      const signals: RuntimeWindow["signals"] = [];
      if (shareRise > 0) signals.push("cpu");
      if (run.some((f) => f.heap)) signals.push("heap");
      windows.push({
        service: name,
        startMs: run[0]!.i.startMs,
        endMs: run.at(-1)!.i.ms,
        signals,
        ...(shareRise > 0
          ? {
              cpu: {
                share: round(steadyShare! + shareRise, 3),
                steadyShare: round(steadyShare!, 3),
                cores: round(Math.max(...run.map((f) => f.i.cores ?? 0)), 3),
                steadyCores: round(steadyCores!, 3),
              },
            }
          : {}),
        ...(heapRise > 0 ? { heap: { riseBytes: Math.round(heapRise) } } : {}),
        score: round(Math.min(1, Math.max(shareRise / FULL_SHARE_RISE, heapRise / FULL_HEAP_RISE_BYTES)), 3),
        suspects: [],
      });
    }
  }
  for (const w of windows) {
    const cause = windows.find(
      (c) => c !== w && ctx.depth(c.service) > ctx.depth(w.service) && c.startMs <= w.startMs && c.endMs > w.startMs,
    );
    if (cause) w.consequenceOf = cause.service;
    const suspect: Suspect = {
      service: w.service,
      operation: `runtime (${w.signals.join(", ")})`,
      score: round(cause ? w.score * CONSEQUENCE_FACTOR : w.score, 3),
      runtime: runtimeOf(ctx, w.service, w),
    };
    w.suspects = [suspect];
  }
  return windows.sort((a, b) => a.startMs - b.startMs || a.service.localeCompare(b.service));
}

/** A service's CPU (cores) and heap rise per scrape interval, from its contract's runtime series. */
function intervals(ctx: RcaContext, service: ServiceInfo): Interval[] {
  const names = Object.fromEntries(runtimeNames(service.contract).map((x) => [x.key, x.name]));
  const cpu = names.cpuCores ? seriesPoints(ctx, service, names.cpuCores) : [];
  const byMs = new Map<number, Interval>();
  const at = (ms: number, startMs: number) => {
    const known = byMs.get(ms);
    if (known) return known;
    const made: Interval = { ms, startMs, heap: {} };
    byMs.set(ms, made);
    return made;
  };
  for (let k = 1; k < cpu.length; k++) {
    const [a, b] = [cpu[k - 1]!, cpu[k]!];
    // A counter below the one before is a restarted process counting from zero.
    at(b.ms, a.ms).cores = (b.v >= a.v ? b.v - a.v : b.v) / ((b.ms - a.ms) / 1000);
  }
  // The heap's rise above the highest of the three scrapes before (a collection's drop is no rise).
  for (const [kind, name] of [
    ["used", names.heapUsedBytes],
    ["total", service.contract.runtimeMetrics?.heapTotalBytes],
  ] as const) {
    const heap = name ? seriesPoints(ctx, service, name) : [];
    for (let k = 1; k < heap.length; k++) {
      const before = Math.max(...heap.slice(Math.max(0, k - 3), k).map((p) => p.v));
      at(heap[k]!.ms, heap[k - 1]!.ms).heap[kind] = { bytes: heap[k]!.v, riseBytes: Math.max(0, heap[k]!.v - before) };
    }
  }
  return [...byMs.values()].sort((a, b) => a.ms - b.ms);
}

function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, v) => a + v, 0) / values.length;
}
