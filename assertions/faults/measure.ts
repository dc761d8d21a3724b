import { BINOMIAL_CONFIDENCE, binomialAcceptance } from "../binomial";
import type { Evidence, FaultRecord, ProcessSample } from "../evidence";
import { PROBE_DEFAULTS } from "../expectations";
import { median } from "../metric-query";
import type { RequestView, RunView } from "../run-view";
import type { Measure } from "./descriptor";
import { heldUntil, hopOfFault } from "./location";

/** Requests whose route crosses the fault's target, started while it was applied. */
function crossing(view: RunView, fault: FaultRecord, inside: boolean): RequestView[] {
  const end = heldUntil(fault, view.evidence.window.endMs);
  return view.requests.filter((r) => {
    if (hopOfFault(fault, r.hops, view.edge?.name) === -1) return false;
    const within = r.request.startMs >= fault.appliedAtMs && r.request.startMs <= end;
    return within === inside;
  });
}

const latencyOf = (r: RequestView) => r.request.endMs - r.request.startMs;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const share = (n: number, of: number) => (of ? n / of : 0);

function firstAfter(fault: FaultRecord, times: readonly number[]): number | null {
  const later = times.filter((t) => t >= fault.appliedAtMs);
  return later.length ? Math.max(0, Math.min(...later) - fault.appliedAtMs) : null;
}

/** Errors injected at a rate: the failure count of the requests crossing the target within its binomial bounds. */
export function errorRate(view: RunView, fault: FaultRecord, rate: number): Measure {
  const inside = crossing(view, fault, true);
  const failed = inside.filter((r) => !r.success);
  // Every crossing request reaches the target unless an earlier hop failed: the count is Binomial(n, rate) at most.
  const { low, high } = binomialAcceptance(inside.length, rate, BINOMIAL_CONFIDENCE);
  const observed = inside.length > 0 && failed.length >= Math.max(1, low) && failed.length <= high;
  return {
    declared: `${rate * 100}% of calls to ${fault.target} fail`,
    tolerance: `failures of the requests crossing it within the 99.9% binomial interval [${low}, ${high}] of ${inside.length}`,
    measured: { requests: inside.length, failed: failed.length, share: round(share(failed.length, inside.length), 3) },
    observed,
    firstEffectMs: firstAfter(
      fault,
      failed.map((r) => r.request.endMs),
    ),
    detail: `${failed.length}/${inside.length} crossing requests failed (${round(share(failed.length, inside.length) * 100)}%), bound [${low}, ${high}]`,
  };
}

/** A fault that fails (nearly) every call it meets: most crossing requests started inside it failed. */
export function failures(view: RunView, fault: FaultRecord, declared: string, least = 0.5): Measure {
  const inside = crossing(view, fault, true);
  const failed = inside.filter((r) => !r.success);
  const fraction = share(failed.length, inside.length);
  return {
    declared,
    tolerance: `>= ${least * 100}% of the requests crossing it started while it held fail`,
    measured: { requests: inside.length, failed: failed.length, share: round(fraction, 3) },
    observed: inside.length > 0 && fraction >= least,
    firstEffectMs: firstAfter(
      fault,
      failed.map((r) => r.request.endMs),
    ),
    detail: `${failed.length}/${inside.length} crossing requests failed (${round(fraction * 100)}%)`,
  };
}

/**
 * Added latency: the median duration of the successful crossing requests started inside, less the median of those
 * outside, at the driver. At least 80% of the declared delay (a fault that did not take) and at most 1.5x + 100 ms
 * (a fault far worse than declared: Chaos Mesh #3399's 5 s delay seen as 20 s).
 */
export function addedLatency(
  view: RunView,
  fault: FaultRecord,
  declaredMs: number | undefined,
  declared: string,
): Measure {
  const ok = (r: RequestView) => r.success;
  const inside = crossing(view, fault, true).filter(ok);
  const outside = crossing(view, fault, false).filter(ok);
  const mIn = median(inside.map(latencyOf));
  const mOut = median(outside.map(latencyOf));
  const added = mIn !== null && mOut !== null ? mIn - mOut : null;
  const [least, most] = declaredMs !== undefined ? [declaredMs * 0.8, declaredMs * 1.5 + 100] : [20, Infinity];
  const slowFrom = mOut !== null ? mOut + least : Infinity;
  return {
    declared,
    tolerance:
      declaredMs !== undefined
        ? `median added latency at the driver within [${round(least)}, ${round(most)}] ms`
        : `median added latency at the driver >= ${least} ms`,
    measured: {
      inside: inside.length,
      outside: outside.length,
      medianInsideMs: mIn === null ? null : round(mIn),
      medianOutsideMs: mOut === null ? null : round(mOut),
      addedMs: added === null ? null : round(added),
    },
    observed: added !== null && added >= least && added <= most,
    firstEffectMs: firstAfter(
      fault,
      inside.filter((r) => latencyOf(r) >= slowFrom).map((r) => r.request.endMs),
    ),
    detail:
      added === null
        ? `no successful crossing request ${mIn === null ? "inside" : "outside"} the fault window to compare`
        : `median ${round(mIn!)} ms inside vs ${round(mOut!)} ms outside: +${round(added)} ms`,
  };
}

/** The /proc samples of the target: before the fault (the second before it), during it, after the revert. */
function processWindows(evidence: Evidence, fault: FaultRecord) {
  const mine = (evidence.processes ?? []).filter((p) => p.service === fault.target);
  const end = fault.revertedAtMs ?? evidence.window.endMs;
  return {
    any: mine.length > 0,
    before: mine.filter((p) => p.atMs < fault.appliedAtMs && p.atMs >= fault.appliedAtMs - 1_500),
    during: mine.filter((p) => p.atMs >= fault.appliedAtMs && p.atMs <= end),
    after: mine.filter((p) => p.atMs > end),
  };
}

/** CPU seconds a pid used over a run of samples, and over how long (the first pid's stretch when the pid changed). */
function cpuUsed(samples: readonly ProcessSample[]): { cpuSeconds: number; seconds: number } | null {
  const live = samples.filter((s) => s.alive && s.cpuSeconds !== undefined);
  if (live.length < 2) return null;
  const first = live[0]!;
  const last = live.filter((s) => s.pid === first.pid).at(-1)!;
  const seconds = (last.atMs - first.atMs) / 1000;
  return seconds > 0 ? { cpuSeconds: last.cpuSeconds! - first.cpuSeconds!, seconds } : null;
}

/** CPU cores used over a run of samples of one pid. */
function cores(samples: readonly ProcessSample[]): number | null {
  const used = cpuUsed(samples);
  return used && used.cpuSeconds / used.seconds;
}

/**
 * /proc/<pid>/stat counts CPU time in clock ticks of 1/USER_HZ (100 a second on Linux): the tick a freeze began in
 * may be counted inside its window. Measured: every freeze of 39 saved runs used 0 ticks over its ~2 s window; the same
 * processes used at least 0.036 cores (5 ticks in 1.5 s) in the 1.5 s before.
 */
const PROC_TICK_S = 0.01;

const NO_PROC = "no /proc samples of its process (the harness cannot see it)";

function unmeasurable(declared: string, tolerance: string): Measure {
  return { declared, tolerance, measured: {}, observed: false, firstEffectMs: null, detail: NO_PROC };
}

/** A freeze: the process stopped while frozen (SIGSTOP; or no CPU and a probe timing out in a paused cgroup). */
export function frozen(view: RunView, fault: FaultRecord): Measure {
  const w = processWindows(view.evidence, fault);
  const declared = `${fault.target} frozen`;
  const tolerance =
    "its process stopped while frozen — state T in /proc (SIGSTOP), or no CPU used and a probe timed out (a paused container's cgroup freezer) — and running again after";
  if (!w.any) return unmeasurable(declared, tolerance);
  const stopped = w.during.filter((p) => p.state === "T");
  const running = w.after.filter((p) => p.alive && p.state !== "T");
  const end = fault.revertedAtMs ?? view.evidence.window.endMs;
  const timeouts = view.evidence.probes.filter(
    (p) => p.service === fault.target && p.atMs >= fault.appliedAtMs && p.atMs <= end && p.outcome === "timeout",
  ).length;
  // CPU while frozen: from 100 ms after the freeze (a pause taking effect) to when the thaw began (after it, the
  // process may run again before the journal records the thaw done).
  const thawStartMs = fault.revertStartedAtMs ?? end;
  const used = cpuUsed(w.during.filter((p) => p.atMs >= fault.appliedAtMs + 100 && p.atMs <= thawStartMs));
  const coresDuring = used && used.cpuSeconds / used.seconds;
  // At most the one tick the freeze began in (a float sum of ticks: half a tick of rounding).
  const isFrozen = stopped.length > 0 || (timeouts > 0 && used !== null && used.cpuSeconds < 1.5 * PROC_TICK_S);
  return {
    declared,
    tolerance,
    measured: {
      stoppedSamples: stopped.length,
      samples: w.during.length,
      coresDuring: coresDuring === null ? null : round(coresDuring, 3),
      probeTimeouts: timeouts,
      runningAfter: running.length,
    },
    observed: isFrozen && running.length > 0,
    firstEffectMs: firstAfter(
      fault,
      stopped.map((p) => p.atMs),
    ),
    detail: `${stopped.length}/${w.during.length} samples stopped, ${coresDuring === null ? "?" : round(coresDuring, 3)} cores and ${timeouts} probe timeouts while frozen, ${running.length} samples running after`,
  };
}

/** A kill or restart: the process gone in a sample while faulted, and a new pid alive after. */
export function replaced(view: RunView, fault: FaultRecord, declared: string): Measure {
  const w = processWindows(view.evidence, fault);
  const tolerance = "its process gone in a /proc sample while faulted, a new pid alive after";
  if (!w.any) return unmeasurable(declared, tolerance);
  const pidBefore = [...w.before, ...w.during][0]?.pid;
  const pidAfter = w.after.at(-1)?.pid;
  const gone = w.during.filter((p) => !p.alive || p.pid !== pidBefore);
  const aliveAfter = w.after.filter((p) => p.alive && p.pid !== pidBefore);
  return {
    declared,
    tolerance,
    measured: {
      pidBefore: pidBefore ?? null,
      pidAfter: pidAfter ?? null,
      goneSamples: gone.filter((p) => !p.alive).length,
      samples: w.during.length,
    },
    observed: gone.length > 0 && aliveAfter.length > 0,
    firstEffectMs: firstAfter(
      fault,
      gone.map((p) => p.atMs),
    ),
    detail: `pid ${pidBefore ?? "?"} -> ${pidAfter ?? "?"}, ${gone.filter((p) => !p.alive).length}/${w.during.length} samples without a live process`,
  };
}

/** Memory held: the process's RSS rises by at least 80% of what was declared while held. */
export function memoryHeld(view: RunView, fault: FaultRecord, mb: number): Measure {
  const w = processWindows(view.evidence, fault);
  const declared = `${fault.target} holds ${mb} MB`;
  const tolerance = `its RSS rises by >= ${round(mb * 0.8)} MiB (80%) while held`;
  if (!w.any) return unmeasurable(declared, tolerance);
  const base = median(w.before.flatMap((p) => (p.rssBytes ? [p.rssBytes] : [])));
  const peak = Math.max(...w.during.flatMap((p) => (p.rssBytes ? [p.rssBytes] : [])));
  const riseMiB = base !== null && Number.isFinite(peak) ? (peak - base) / 2 ** 20 : null;
  const first = base !== null ? w.during.filter((p) => (p.rssBytes ?? 0) - base >= mb * 0.8 * 2 ** 20) : [];
  return {
    declared,
    tolerance,
    measured: {
      rssBeforeMiB: base === null ? null : round(base / 2 ** 20),
      rssPeakMiB: Number.isFinite(peak) ? round(peak / 2 ** 20) : null,
      riseMiB: riseMiB === null ? null : round(riseMiB),
    },
    observed: riseMiB !== null && riseMiB >= mb * 0.8,
    firstEffectMs: firstAfter(
      fault,
      first.map((p) => p.atMs),
    ),
    detail: riseMiB === null ? "no RSS before or during the fault" : `RSS +${round(riseMiB)} MiB (declared ${mb} MB)`,
  };
}

/** CPU burnt: the process's CPU rate rises by 60% of the declared fraction (two cores shared with the mesh). */
export function cpuBurnt(view: RunView, fault: FaultRecord, wanted: number): Measure {
  const w = processWindows(view.evidence, fault);
  const declared = `${fault.target} burns ${wanted} of a core`;
  const tolerance = `its CPU rate rises by >= ${round(wanted * 0.6, 2)} cores (60% of ${round(wanted, 2)})`;
  if (!w.any) return unmeasurable(declared, tolerance);
  const before = cores(w.before);
  const during = cores(w.during);
  const rise = before !== null && during !== null ? during - before : null;
  return {
    declared,
    tolerance,
    measured: {
      coresBefore: before === null ? null : round(before, 2),
      coresDuring: during === null ? null : round(during, 2),
      rise: rise === null ? null : round(rise, 2),
    },
    observed: rise !== null && rise >= wanted * 0.6,
    firstEffectMs: null,
    detail:
      rise === null
        ? "too few CPU samples before or during the fault"
        : `CPU ${round(before!, 2)} -> ${round(during!, 2)} cores`,
  };
}

/**
 * A CPU cap: the process's CPU rate (/proc, every 200 ms) stays within the cap while it holds, allowing one sample
 * interval's tick rounding (0.05 cores) and the scheduler's period overrun (10%).
 */
export function cpuCapped(view: RunView, fault: FaultRecord, fraction: number): Measure {
  const w = processWindows(view.evidence, fault);
  const declared = `${fault.target} capped at ${fraction} of a core`;
  const bound = fraction * 1.1 + 0.05;
  const tolerance = `its CPU rate <= ${round(bound, 2)} cores while capped`;
  if (!w.any) return unmeasurable(declared, tolerance);
  const during = cores(w.during.filter((p) => p.atMs >= fault.appliedAtMs + 200));
  return {
    declared,
    tolerance,
    measured: { coresDuring: during === null ? null : round(during, 3), coresBefore: round(cores(w.before) ?? 0, 3) },
    observed: during !== null && during <= bound,
    firstEffectMs: null,
    detail: during === null ? "too few CPU samples while capped" : `CPU ${round(during, 3)} cores while capped`,
  };
}

/**
 * A stall: the target answers late while its loop is blocked. The probe poller asks every pollIntervalMs (100), so
 * one poll starts within that of a block's start and waits out the rest: the slowest poll while it held takes at
 * least blockMs - pollIntervalMs (measured 0.87-1.10 of blockMs over 19 stalls of 300-600 ms). Without probes the
 * crossing requests witness it: >= 70% of a block (no stated cause yet: a request reaches a deep target some time
 * after it starts, so the gap between their starts does not bound its wait; HotROD's requests are sparse, and its
 * process-stall was not witnessed by that bound). (The /proc CPU of a busy-wait is shared with the mesh on two cores,
 * a poor witness.)
 */
export function stall(view: RunView, fault: FaultRecord, blockMs: number, everyMs: number): Measure {
  const end = heldUntil(fault, view.evidence.window.endMs);
  const polls = view.evidence.probes.filter(
    (p) => p.service === fault.target && p.atMs >= fault.appliedAtMs && p.atMs <= end,
  );
  // A service without probes: the requests crossing it are the witnesses.
  const witnesses = polls.length
    ? polls.map((p) => ({ atMs: p.atMs, ms: p.latencyMs }))
    : crossing(view, fault, true).map((r) => ({ atMs: r.request.endMs, ms: latencyOf(r) }));
  const what = polls.length ? "probe answer" : "crossing request";
  const pollIntervalMs = view.expectations.probes?.pollIntervalMs ?? PROBE_DEFAULTS.pollIntervalMs;
  const [leastMs, why] = polls.length
    ? [blockMs - pollIntervalMs, `a block less one ${pollIntervalMs} ms poll interval`]
    : [blockMs * 0.7, "70% of a block"];
  const slowest = witnesses.length ? Math.max(...witnesses.map((w) => w.ms)) : null;
  const late = witnesses.filter((w) => w.ms >= leastMs);
  return {
    declared: `${fault.target} stalled ${blockMs} ms every ${everyMs} ms`,
    tolerance: `its slowest ${what} while it held >= ${round(leastMs)} ms (${why})`,
    measured: { witnesses: witnesses.length, slowestMs: slowest === null ? null : round(slowest), late: late.length },
    observed: slowest !== null && slowest >= leastMs,
    firstEffectMs: firstAfter(
      fault,
      late.map((w) => w.atMs),
    ),
    detail:
      slowest === null
        ? `no ${what} while it held`
        : `slowest ${what} ${round(slowest)} ms, ${late.length} >= ${round(leastMs)} ms`,
  };
}

/**
 * The load beyond capacity: the requests started in its window failed, or their p99 at the driver is past the bound
 * capacity is measured against (250 ms). A machine faster than its measured capacity is not overloaded.
 */
export function overload(view: RunView, fault: FaultRecord, boundMs = OVERLOAD_P99_MS): Measure {
  const end = heldUntil(fault, view.evidence.window.endMs);
  const inside = view.requests.filter((r) => r.request.startMs >= fault.appliedAtMs && r.request.startMs <= end);
  const failed = inside.filter((r) => !r.success);
  const latencies = inside.map(latencyOf).sort((a, b) => a - b);
  const p99 = latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]! : null;
  const slowFrom = boundMs;
  return {
    declared: "the load exceeds the mesh's capacity",
    tolerance: `requests started in it fail, or their p99 at the driver exceeds ${boundMs} ms`,
    measured: { requests: inside.length, failed: failed.length, p99Ms: p99 === null ? null : round(p99) },
    observed: inside.length > 0 && (failed.length > 0 || (p99 ?? 0) > boundMs),
    firstEffectMs: firstAfter(
      fault,
      inside.filter((r) => !r.success || latencyOf(r) > slowFrom).map((r) => r.request.endMs),
    ),
    detail: `${failed.length}/${inside.length} requests failed, p99 ${p99 === null ? "-" : round(p99)} ms`,
  };
}

/** The p99 bound capacity is measured against (harness/load/capacity.ts): past it, the mesh is overloaded. */
export const OVERLOAD_P99_MS = 250;
