import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FaultSpec } from "../../assertions/faults";
import { loadRoutes } from "../../scenarios/lib/template";
import { env, toolCacheDir } from "../config/env";
import { ConfigError } from "../errors";
import { percentileOf, type LoadTarget } from "./inline-driver";
import { runInlineLoad, type LoadResult } from "./inline-driver";
import type { RequestRecord } from "../../assertions/evidence";
import { binomialAcceptance } from "../../assertions/binomial";
import type { MeshTarget } from "../mesh/target";

/** What "sustainable" means: every request answered 2xx, none dropped by the driver, p99 at most this. */
export const CAPACITY_P99_BOUND_MS = 250;

/** One rate tried: what the driver measured at it, and whether the mesh sustained it. */
export interface CapacityStep {
  ratePerSec: number;
  requests: number;
  achievedPerSec: number;
  failed: number;
  /** Requests the driver sent over LATE_MS late: the rate was not offered in full. */
  dropped: number;
  p99Ms: number;
  sustained: boolean;
  /** Why not, when not. */
  why?: string;
}

/** The mesh's measured capacity on this machine, stored in the cache (capacityFile()). */
export interface Capacity {
  /** The highest arrival rate (requests/s of the mesh's load mix, the load scenarios' mix) the mesh sustained. */
  ratePerSec: number;
  measuredAt: string;
  /** What it was measured on: another machine or mesh is another capacity. */
  key: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number };
  p99BoundMs: number;
  stepMs: number;
  steps: CapacityStep[];
  /** Only checked to be at least this (MeasureOptions.atLeast): not stored, and not the mesh's capacity. */
  floor?: true;
}

/** This machine and mesh, as capacity is keyed: cores, CPU model, memory, and how the mesh runs. */
export function capacityKey(mesh: string): { key: string; machine: Capacity["machine"] } {
  const cpus = os.availableParallelism();
  const cpuModel = os.cpus()[0]?.model.trim() ?? "unknown";
  const memoryGiB = Math.round(os.totalmem() / 2 ** 30);
  return { key: `${cpus}x ${cpuModel}, ${memoryGiB} GiB, ${mesh}`, machine: { cpus, cpuModel, memoryGiB } };
}

/** Where measured capacities are kept: beside the tool cache (they outlive a clone, like the tools). */
export function capacityFile(): string {
  return path.join(path.dirname(toolCacheDir()), "capacity.json");
}

/** The stored capacity for this key, or undefined. MESHPROOF_CAPACITY (requests/s) pins it without measuring. */
export function storedCapacity(
  key: string,
): (Pick<Capacity, "ratePerSec" | "measuredAt"> & Partial<Pick<Capacity, "p99BoundMs">>) | undefined {
  const pinned = env("MESHPROOF_CAPACITY");
  if (pinned !== undefined) {
    const ratePerSec = Number(pinned);
    if (!(ratePerSec > 0)) throw new ConfigError(`MESHPROOF_CAPACITY must be a rate > 0 (got "${pinned}")`);
    return { ratePerSec, measuredAt: "MESHPROOF_CAPACITY" };
  }
  return readAll()[key];
}

function readAll(): Record<string, Capacity> {
  try {
    return JSON.parse(fs.readFileSync(capacityFile(), "utf8")) as Record<string, Capacity>;
  } catch {
    return {};
  }
}

export function storeCapacity(capacity: Capacity): void {
  const all = readAll();
  all[capacity.key] = capacity;
  fs.mkdirSync(path.dirname(capacityFile()), { recursive: true });
  const staging = `${capacityFile()}.${process.pid}`;
  fs.writeFileSync(staging, `${JSON.stringify(all, null, 2)}\n`);
  fs.renameSync(staging, capacityFile());
}

export interface MeasureOptions {
  log: (line: string) => void;
  signal?: AbortSignal;
  /** How long each rate is held. Default 5000. */
  stepMs?: number;
  /** The first rate tried. Default 50. */
  startPerSec?: number;
  /** Give up above this. Default 5000. */
  maxPerSec?: number;
  /**
   * Only whether the mesh sustains this rate: when it does, it is returned as a floor (`floor: true`) after the
   * warm-up and one step (about 10 s); when not, the capacity is measured in full.
   */
  atLeast?: number;
}

/**
 * Finds the highest arrival rate the mesh sustains (no more failures than at 1 req/s, none dropped, p99 within twice
 * its p99 at 1 req/s and CAPACITY_P99_BOUND_MS) with the inline driver the load scenarios use, after a warm-up step at
 * half the start rate: down by half from the start rate while it is too much, then up by half until one is not
 * sustained twice in a row, then the gap is halved three times. About a dozen steps of stepMs: a minute here.
 */
export async function measureCapacity(
  target: LoadTarget & { mix: readonly { route: string; weight: number }[] },
  key: { key: string; machine: Capacity["machine"] },
  options: MeasureOptions,
): Promise<Capacity> {
  const stepMs = options.stepMs ?? 5_000;
  const start = options.startPerSec ?? 50;
  const steps: CapacityStep[] = [];
  let timeoutMs = 30_000;
  const run = (ratePerSec: number, seed: number) =>
    runInlineLoad({ ratePerSec, durationMs: stepMs, routes: target.mix, seed, timeoutMs }, target, options.signal);
  // The mesh's own latency and failures, at 1 req/s (no queue even on a slow mesh); then, since a cold mesh
  // (connections, JIT, a container's first requests) answers its first seconds slowly, a warm-up at a higher rate.
  const profile = latencyProfile((await run(1, 0)).requests);
  options.log(
    `  capacity: the mesh's profile at 1 req/s: p99 ${profile.p99Ms} ms, ${profile.failed}/${profile.requests} failed; sustained means p99 <= ${profile.boundMs} ms and failures within their 99.9% bound`,
  );
  // A request waiting 4 times the bound marks its rate as not sustained already: no step waits longer for one.
  timeoutMs = Math.max(2_000, 4 * profile.boundMs);
  const warmRate = Math.max(1, Math.min(start / 2, 5));
  const warm = await run(warmRate, 0);
  // A mesh that does not sustain even the warm-up is slow: it is measured upward from 1 req/s, never overloaded
  // further (a mesh that keeps working for callers that gave up would still be draining at the next step).
  const slow = judgeStep(warmRate, stepMs, warm.requests, late(warm), profile);
  if (!slow.sustained)
    options.log(`  capacity: ${warmRate} req/s not sustained (${slow.why}): a slow mesh, measured upward from 1 req/s`);
  const attempt = async (ratePerSec: number): Promise<CapacityStep> => {
    const result = await run(ratePerSec, steps.length + 1);
    options.signal?.throwIfAborted();
    const step = judgeStep(ratePerSec, stepMs, result.requests, late(result), profile);
    steps.push(step);
    options.log(
      `  capacity: ${ratePerSec} req/s -> ${step.sustained ? "sustained" : `not sustained (${step.why})`}, p99 ${step.p99Ms} ms`,
    );
    return step;
  };
  // A rate fails for good only when it fails twice: one hiccup of a shared machine is not the mesh's limit.
  const sustains = async (rate: number) => (await attempt(rate)).sustained || (await attempt(rate)).sustained;
  const measured = (ratePerSec: number) => ({
    ratePerSec,
    measuredAt: new Date().toISOString(),
    ...key,
    p99BoundMs: profile.boundMs,
    stepMs,
    steps,
  });
  if (options.atLeast !== undefined && slow.sustained && (await attempt(options.atLeast)).sustained)
    return { ...measured(options.atLeast), floor: true };
  let good = 0;
  let bad = slow.sustained ? (options.maxPerSec ?? 5_000) : warmRate;
  // Down from the start rate while it is too much (from 1 on a slow mesh), then up by half until one is too much.
  for (let rate = slow.sustained ? start : 1; good === 0 && rate >= 1; rate = Math.floor(rate / 2))
    if (await sustains(rate)) good = rate;
    else bad = rate;
  for (let rate = Math.max(good + 1, Math.round(good * 1.5)); good > 0 && rate < bad; rate = Math.round(rate * 1.5)) {
    if (await sustains(rate)) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  for (let i = 0; i < 3 && bad - good > Math.max(1, good * 0.05); i++) {
    const mid = Math.round((good + bad) / 2);
    if (await sustains(mid)) good = mid;
    else bad = mid;
  }
  if (good === 0)
    throw new Error(
      `the mesh sustained no rate down to 1 req/s: ${steps.map((s) => `${s.ratePerSec}: ${s.why}`).join("; ")}`,
    );
  return measured(good);
}

/** Requests' p99 duration (0.1 ms) and how many were not answered 2xx. */
function p99AndFailures(requests: readonly RequestRecord[]) {
  const durations = requests.map((r) => r.endMs - r.startMs);
  return {
    p99Ms: Math.round(percentileOf(durations, 0.99) * 10) / 10,
    failed: requests.filter((r) => r.status < 200 || r.status >= 300).length,
  };
}

/** The mesh's own latency and failures at a low rate: what a sustained rate may not exceed. */
function latencyProfile(requests: readonly RequestRecord[]) {
  const { p99Ms, failed } = p99AndFailures(requests);
  return {
    p99Ms,
    failed,
    requests: requests.length,
    // Twice the mesh's own p99 (a queue forming), never below the bound a fast mesh is held to.
    boundMs: Math.max(CAPACITY_P99_BOUND_MS, Math.round(p99Ms * 2)),
    failureShare: requests.length ? failed / requests.length : 0,
  };
}

/** Whether one rate was sustained: no more failures than the mesh fails by design, none dropped, p99 in bound. */
/**
 * A request that left this much after its time was not offered at the rate: the driver (on the same cores as the
 * mesh) could not keep the schedule, which k6 reports as dropped iterations.
 */
const LATE_MS = 100;

function late(result: LoadResult): number {
  return result.scheduleDriftMs.filter((d) => d > LATE_MS).length;
}

function judgeStep(
  ratePerSec: number,
  stepMs: number,
  requests: readonly RequestRecord[],
  dropped: number,
  profile: ReturnType<typeof latencyProfile>,
): CapacityStep {
  const { p99Ms, failed } = p99AndFailures(requests);
  const allowed = binomialAcceptance(requests.length, profile.failureShare, 0.999).high;
  const planned = Math.round((ratePerSec * stepMs) / 1000);
  const why =
    failed > allowed
      ? `${failed} request(s) failed, more than the ${allowed} its own failure rate allows`
      : dropped > 0
        ? `${dropped} request(s) left over ${LATE_MS} ms late`
        : requests.length < planned * 0.98
          ? `${requests.length} of ${planned} requests sent`
          : p99Ms > profile.boundMs
            ? `p99 ${p99Ms} ms > ${profile.boundMs} ms`
            : undefined;
  return {
    ratePerSec,
    requests: requests.length,
    achievedPerSec: Math.round((requests.length / stepMs) * 10_000) / 10,
    failed,
    dropped,
    p99Ms,
    sustained: why === undefined,
    ...(why ? { why } : {}),
  };
}

/** A capacity in use: its rate, when it was measured (or "MESHPROOF_CAPACITY"), for what. */
export interface CapacityInUse {
  ratePerSec: number;
  measuredAt: string;
  key: string;
  /** The p99 a sustained rate stays under on this mesh (its own latency profile). */
  p99BoundMs: number;
  /** Only known to be at least ratePerSec (`atLeast`): enough for what it was asked for, not the capacity. */
  floor?: true;
}

/**
 * The capacity of the target's mesh on this machine: the stored one, or measured now on a mesh of the target (which
 * is then replaced: its counters and traces hold the calibration's load) and stored. `remeasure` measures anyway;
 * `atLeast` first checks only whether the mesh sustains that rate (a floor, not stored) and measures in full if not.
 */
export async function capacityFor(
  target: MeshTarget,
  mesh: string,
  options: { remeasure?: boolean; atLeast?: number; log: (line: string) => void; signal?: AbortSignal },
): Promise<CapacityInUse> {
  const key = capacityKey(mesh);
  const stored = options.remeasure ? undefined : storedCapacity(key.key);
  if (stored) {
    options.log(
      `capacity ${stored.ratePerSec} req/s (${stored.measuredAt === "MESHPROOF_CAPACITY" ? "MESHPROOF_CAPACITY" : `measured ${stored.measuredAt}; npm run capacity measures again`})`,
    );
    return {
      ratePerSec: stored.ratePerSec,
      measuredAt: stored.measuredAt,
      key: key.key,
      p99BoundMs: stored.p99BoundMs ?? CAPACITY_P99_BOUND_MS,
    };
  }
  options.log(
    options.atLeast !== undefined
      ? `capacity of ${key.key}: not measured yet, checking that it sustains ${options.atLeast} req/s (about 10 s)`
      : `capacity of ${key.key}: ${options.remeasure ? "measuring" : "not measured yet, measuring"} (about a minute)`,
  );
  const { mesh: started } = await target.acquire("capacity", {}, options.signal);
  try {
    const mix = loadRoutes(target.topology);
    const capacity = await measureCapacity({ baseUrl: started.edgeUrl, routes: target.routes, mix }, key, options);
    if (capacity.floor) options.log(`capacity at least ${capacity.ratePerSec} req/s (not measured further)`);
    else {
      storeCapacity(capacity);
      options.log(`capacity ${capacity.ratePerSec} req/s, stored in ${capacityFile()}`);
    }
    return {
      ratePerSec: capacity.ratePerSec,
      measuredAt: capacity.measuredAt,
      key: key.key,
      p99BoundMs: capacity.p99BoundMs,
      ...(capacity.floor ? { floor: true as const } : {}),
    };
  } finally {
    await target.release(started, true);
  }
}

/**
 * A scenario whose rates are fractions of capacity (`load.rateUnit: "capacity"`), in requests/s: every rate times
 * the capacity, rounded; and, with `load.minRequests`, its last stage held longer until the plan holds that many (a
 * smaller machine sends as many requests, for longer; the stage at most twice as long). An overload it declares is
 * held to the mesh's own p99 bound. A scenario with `maxShareOfCapacity` is slowed to that share instead; others are
 * unchanged.
 */
export function atCapacity<S extends { load: ScaledLoad; faults?: readonly FaultSpec[] }>(
  scenario: S,
  capacity: number,
  p99BoundMs?: number,
): S {
  if (scenario.load.maxShareOfCapacity !== undefined)
    return slowedTo(scenario, scenario.load.maxShareOfCapacity * capacity);
  if (scenario.load.rateUnit !== "capacity") return scenario;
  const rate = (share: number) => Math.max(1, Math.round(share * capacity));
  const load = scenario.load;
  const start = rate(load.ratePerSec);
  let stages = load.stages?.map((s) => ({ ...s, targetRatePerSec: rate(s.targetRatePerSec) }));
  let durationMs = load.durationMs;
  const last = stages?.at(-1);
  if (stages && last && load.minRequests) {
    // Requests of linear ramps: the mean of each stage's two ends times its duration.
    let planned = 0;
    let from = start;
    for (const s of stages) {
      planned += ((from + s.targetRatePerSec) / 2) * (s.durationMs / 1000);
      from = s.targetRatePerSec;
    }
    if (planned < load.minRequests && last.targetRatePerSec > 0) {
      // Never more than twice as long: a slow mesh gets fewer requests, not an hour of them.
      const moreMs = Math.min(
        Math.ceil(((load.minRequests - planned) / last.targetRatePerSec) * 1000),
        last.durationMs,
      );
      stages = [...stages.slice(0, -1), { ...last, durationMs: last.durationMs + moreMs }];
      durationMs += moreMs;
    }
  }
  return {
    ...scenario,
    load: { ...load, rateUnit: "req/s", ratePerSec: start, durationMs, ...(stages ? { stages } : {}) },
    ...(scenario.faults && p99BoundMs !== undefined
      ? {
          faults: scenario.faults.map((f) =>
            f.kind === "overload" ? { ...f, params: { ...f.params, p99BoundMs } } : f,
          ),
        }
      : {}),
  };
}

/** How much longer a scenario may run on a slow mesh: past that, it is judged on fewer requests. */
const MOST_SLOWED = 4;

/**
 * A scenario in requests/s at no more than `most` req/s: unchanged when its rate is within it, else at `most` (to a
 * tenth) with its timeline slowed by the same factor (at most MOST_SLOWED): warm-up, duration, and each fault's start
 * and length.
 */
function slowedTo<S extends { load: ScaledLoad; faults?: readonly FaultSpec[] }>(scenario: S, most: number): S {
  const { load } = scenario;
  if (load.stages || load.ratePerSec <= most) return scenario;
  const ratePerSec = Math.max(0.1, Math.floor(most * 10) / 10);
  const factor = Math.min(MOST_SLOWED, load.ratePerSec / ratePerSec);
  const slow = (ms: number) => Math.round(ms * factor);
  return {
    ...scenario,
    load: { ...load, ratePerSec, warmupMs: slow(load.warmupMs ?? 0), durationMs: slow(load.durationMs) },
    ...(scenario.faults
      ? { faults: scenario.faults.map((f) => ({ ...f, atMs: slow(f.atMs), durationMs: slow(f.durationMs) })) }
      : {}),
  };
}

interface ScaledLoad {
  rateUnit?: "req/s" | "capacity";
  ratePerSec: number;
  durationMs: number;
  minRequests?: number;
  maxShareOfCapacity?: number;
  warmupMs?: number;
  stages?: readonly { durationMs: number; targetRatePerSec: number }[];
}
