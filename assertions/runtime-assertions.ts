import { faultSignature, type FaultSignature } from "./faults";
import type { RuntimeContract, TelemetryContract } from "./contract";
import type { AssertionResult, FaultRecord, MetricSeries, ServiceInfo } from "./evidence";
import { deltaAcrossLives, median, sum } from "./metric-query";
import type { MetricView } from "./metric-view";
import { metricView } from "./metric-view";
import { Findings, verdict } from "./result";
import type { RunView } from "./run-view";
import { heldUntil } from "./trace-shape";

/** Stable ids of the runtime family. */
export const RUNTIME_ASSERTIONS = {
  up: "runtime.up",
  heap: "runtime.heap",
  gc: "runtime.gc",
  eventLoop: "runtime.event-loop",
  goroutines: "runtime.goroutines",
  rss: "runtime.rss",
  cpu: "runtime.cpu",
  restarts: "runtime.restarts",
  resourceFaults: "runtime.resource-faults",
} as const;

type Key = Exclude<keyof typeof RUNTIME_ASSERTIONS, "resourceFaults">;

const GIB = 1024 ** 3;

/** Per runtime assertion, what the services add up to as they are judged. */
interface Tallies {
  found: Record<Key, Findings>;
  observed: Record<Key, Record<string, unknown>>;
  /** Services whose gauges were there to judge. */
  judged: Record<Key, number>;
}

/** The machine's and the scenario's bounds on the runtime gauges. */
interface Limits {
  maxEventLoopLagSeconds: number;
  cpuCores: number;
  memoryBytes: number;
}

/** One service under judgement: its contract's runtime metric names and the readers every check uses. */
interface ServiceCheck {
  view: RunView;
  metrics: MetricView;
  service: ServiceInfo;
  contract: TelemetryContract;
  names: RuntimeContract;
  tallies: Tallies;
  add: (key: Key, detail: string) => void;
  /** The gauge's value at the end of the run. */
  value: (name: string) => number | undefined;
  /** value(), and a finding for `key` when the service does not expose it. */
  need: (key: Key, name: string) => number | undefined;
  range: (name: string) => MetricSeries | undefined;
}

/**
 * Family "runtime": every service's target is up and its runtime gauges are present, within physical bounds and
 * moving — each service judged by its runtime's contract: heap used within (0, heap total] and moving; GC count
 * rising during load; Node: event-loop lag and utilisation in bounds and not constant; Go: goroutines in bounds and
 * not constant; RSS >= heap used and below the machine's memory; CPU seconds rising, monotonic, never faster than
 * the machine's cores.
 */
export function assertRuntime(view: RunView): AssertionResult[] {
  const metrics = metricView(view);
  const { maxEventLoopLagSeconds = 1, cpuCores = 2, memoryBytes = 24 * GIB } = view.expectations.runtime ?? {};
  const limits: Limits = { maxEventLoopLagSeconds, cpuCores, memoryBytes };
  const keys = Object.keys(RUNTIME_ASSERTIONS).filter((k) => k !== "resourceFaults");
  const tallies: Tallies = {
    found: Object.fromEntries(keys.map((k) => [k, new Findings()])) as Record<Key, Findings>,
    observed: Object.fromEntries(keys.map((k) => [k, {}])) as Record<Key, Record<string, unknown>>,
    judged: Object.fromEntries(keys.map((k) => [k, 0])) as Record<Key, number>,
  };
  for (const service of view.evidence.services) checkService(serviceCheck(view, metrics, service, tallies), limits);
  return [
    ...runtimeVerdicts(view, tallies, limits),
    ...(view.evidence.faults.some((f) => faultSignature(f.kind).runtime) ? [resourceFaults(view)] : []),
  ];
}

function serviceCheck(view: RunView, metrics: MetricView, service: ServiceInfo, tallies: Tallies): ServiceCheck {
  const contract = view.contract(service);
  const add = (key: Key, detail: string) => tallies.found[key].add({ detail: `${service.name}: ${detail}` });
  const value = (name: string) => metrics.latest(service, name)[0]?.value;
  const need = (key: Key, name: string): number | undefined => {
    const v = value(name);
    if (v === undefined) add(key, `exposes no ${name} (${service.instance})`);
    return v;
  };
  const range = (name: string) =>
    view.evidence.metrics.range.find((s) => s.name === name && s.labels[contract.labels.instance] === service.instance);
  return { view, metrics, service, contract, names: contract.runtimeMetrics, tallies, add, value, need, range };
}

/** Every runtime check of one service, in the order their findings are told. */
function checkService(c: ServiceCheck, limits: Limits): void {
  const restarted = checkRestarts(c);
  checkUp(c);
  const used = checkHeap(c, limits.memoryBytes);
  checkGc(c, restarted);
  if (c.contract.runtime === "node") checkEventLoop(c, limits.maxEventLoopLagSeconds);
  else checkGoroutines(c);
  checkRss(c, used, limits.memoryBytes);
  if (c.value(c.names.cpuSecondsTotal) !== undefined) c.tallies.judged.cpu++;
  checkCpu(c, limits.cpuCores);
}

/** The process start time changes exactly when a fault restarted the service; returns whether it changed. */
function checkRestarts({ view, metrics, service, names, tallies, add }: ServiceCheck): boolean {
  // A process started again during the run (by a fault, or by a crash) counts its CPU and GC from zero.
  const startedAt = (samples: typeof view.evidence.metrics.end) =>
    metrics.latest(service, names.startTimeSeconds, samples)[0]?.value;
  const firstStart = startedAt(view.evidence.metrics.start);
  const lastStart = startedAt(view.evidence.metrics.end);
  const restarted = firstStart !== undefined && lastStart !== undefined && lastStart !== firstStart;
  const restartedByFault = view.evidence.faults.some(
    (f) => f.target === service.name && faultSignature(f.kind).newLife,
  );
  if (firstStart !== undefined && lastStart !== undefined) tallies.judged.restarts++;
  tallies.observed.restarts[service.name] = {
    startTimeAtStart: firstStart,
    startTimeAtEnd: lastStart,
    restartedByFault,
  };
  if (lastStart === undefined) add("restarts", `exposes no ${names.startTimeSeconds}`);
  else if (restarted !== restartedByFault)
    add(
      "restarts",
      restartedByFault
        ? `${names.startTimeSeconds} stayed ${lastStart} although a fault restarted the process`
        : `${names.startTimeSeconds} went from ${firstStart} to ${lastStart}: the process restarted and no fault did it`,
    );
  return restarted;
}

function checkUp({ service, contract, tallies, add, value }: ServiceCheck): void {
  const up = value(contract.up);
  if (up !== undefined) tallies.judged.up++;
  tallies.observed.up[service.name] = up ?? null;
  if (up !== 1) add("up", `${contract.up} is ${up ?? "absent"} for target ${service.instance}, expected 1`);
}

/** Heap used within (0, total], total within the machine's memory, and moving; returns heap used. */
function checkHeap({ service, names, tallies, add, need, range }: ServiceCheck, memoryBytes: number) {
  const used = need("heap", names.heapUsedBytes);
  const total = need("heap", names.heapTotalBytes);
  if (used !== undefined && total !== undefined) tallies.judged.heap++;
  const heapMoves = moves(range(names.heapUsedBytes));
  tallies.observed.heap[service.name] = { usedBytes: used, totalBytes: total, moves: heapMoves === undefined };
  if (used !== undefined && total !== undefined && !(used > 0 && used <= total && total <= memoryBytes))
    add("heap", `heap used ${used} B, total ${total} B: not 0 < used <= total <= ${memoryBytes} B`);
  if (heapMoves) add("heap", `${names.heapUsedBytes} ${heapMoves}`);
  return used;
}

/** The GC count rose during load (across restarts), and every GC series carries its kind label. */
function checkGc({ view, metrics, service, names, tallies, add }: ServiceCheck, restarted: boolean): void {
  const gc = names.gcDuration;
  const gcCount = (samples = view.evidence.metrics.end) => {
    const series = metrics.latest(service, `${gc.name}_count`, samples);
    return series.length ? sum(series.map((s) => s.value)) : undefined;
  };
  const before = gcCount(view.evidence.metrics.start);
  const after = gcCount();
  const gcRise = increase(metrics, service, `${gc.name}_count`);
  tallies.observed.gc[service.name] = { countAtStart: before, countAtEnd: after, rise: gcRise };
  if (after !== undefined) tallies.judged.gc++;
  if (after === undefined) add("gc", `exposes no ${gc.name}_count`);
  else if (before === undefined || !(gcRise > 0))
    add(
      "gc",
      `${gc.name}_count went from ${before ?? "absent"} to ${after}${restarted ? " across a restart" : ""}: no garbage collection counted during load`,
    );
  if (gc.kindLabel && metrics.latest(service, `${gc.name}_count`).some((s) => s.labels[gc.kindLabel!] === undefined))
    add("gc", `${gc.name} has series without the "${gc.kindLabel}" label`);
}

/** Node: event-loop lag and utilisation in bounds and moving. */
function checkEventLoop({ service, names, tallies, add, need, range }: ServiceCheck, maxLagSeconds: number): void {
  const lagName = names.eventLoopLagSeconds!;
  const eluName = names.eventLoopUtilization!;
  const lag = need("eventLoop", lagName);
  const elu = need("eventLoop", eluName);
  if (lag !== undefined && elu !== undefined) tallies.judged.eventLoop++;
  const lagMoves = moves(range(lagName));
  const eluMoves = moves(range(eluName));
  tallies.observed.eventLoop[service.name] = { lagSeconds: lag, utilization: elu };
  if (lag !== undefined && !(lag >= 0 && lag <= maxLagSeconds))
    add("eventLoop", `event-loop lag ${lag} s is not within [0, ${maxLagSeconds}] s`);
  if (elu !== undefined && !(elu >= 0 && elu <= 1))
    add("eventLoop", `event-loop utilisation ${elu} is not within [0, 1]`);
  if (lagMoves) add("eventLoop", `${lagName} ${lagMoves}`);
  if (eluMoves) add("eventLoop", `${eluName} ${eluMoves}`);
}

/** Go: the goroutine count in bounds and moving. */
function checkGoroutines({ service, names, tallies, add, need, range }: ServiceCheck): void {
  const name = names.goroutines!;
  const goroutines = need("goroutines", name);
  if (goroutines !== undefined) tallies.judged.goroutines++;
  tallies.observed.goroutines[service.name] = goroutines;
  if (goroutines !== undefined && !(goroutines >= 1 && goroutines <= 1_000_000))
    add("goroutines", `${name} is ${goroutines}, not within [1, 1000000]`);
  const goroutinesMove = moves(range(name));
  if (goroutinesMove) add("goroutines", `${name} ${goroutinesMove}`);
}

function checkRss(c: ServiceCheck, used: number | undefined, memoryBytes: number): void {
  const rss = c.need("rss", c.names.residentMemoryBytes);
  if (rss !== undefined) c.tallies.judged.rss++;
  c.tallies.observed.rss[c.service.name] = rss;
  if (rss !== undefined && !(rss > 0 && rss <= memoryBytes && (used === undefined || rss >= used)))
    c.add("rss", `RSS ${rss} B is not within [heap used ${used ?? "?"} B, ${memoryBytes} B]`);
}

/** One verdict per runtime assertion; event loop only with Node services, goroutines only with Go ones. */
function runtimeVerdicts(view: RunView, tallies: Tallies, limits: Limits): AssertionResult[] {
  const { found, observed, judged } = tallies;
  const { maxEventLoopLagSeconds, cpuCores, memoryBytes } = limits;
  const services = view.evidence.services;
  const node = services.filter((s) => view.contract(s).runtime === "node").length;
  const go = services.length - node;
  const judge = (key: Key, claim: string, count: number, expected: Record<string, unknown>) =>
    verdict(
      RUNTIME_ASSERTIONS[key],
      "runtime",
      found[key],
      { passed: `all ${count} services ${claim}`, failed: `${found[key].count} runtime finding(s)` },
      {
        compared: judged[key],
        minimum: count,
        what: "services",
        because: `${count} services of that runtime in the run`,
      },
      expected,
      observed[key],
    );
  return [
    judge("up", "are up", services.length, { up: 1 }),
    judge("heap", "have heap used within (0, total] and moving", services.length, {
      usedBytes: "(0, total]",
      moves: true,
    }),
    judge("gc", "counted garbage collections during load", services.length, { gcCountRises: true }),
    ...(node
      ? [
          judge("eventLoop", "have event-loop lag and utilisation in bounds and moving", node, {
            lagSeconds: `[0, ${maxEventLoopLagSeconds}]`,
            utilization: "[0, 1]",
            moves: true,
          }),
        ]
      : []),
    ...(go
      ? [
          judge("goroutines", "have a goroutine count in bounds and moving", go, {
            goroutines: "[1, 1e6]",
            moves: true,
          }),
        ]
      : []),
    judge("rss", "have RSS between heap used and the machine's memory", services.length, {
      rssBytes: `[heap used, ${memoryBytes}]`,
    }),
    judge("cpu", "used CPU during load, monotonic and within the cores", services.length, {
      secondsRise: true,
      peakCores: `<= ${cpuCores}`,
    }),
    judge("restarts", "restarted exactly when a fault restarted them", services.length, {
      startTimeChanges: "only for services a kill or restart hit",
    }),
  ];
}

const MIB = 2 ** 20;

type Points = [number, number][];

/** One resource fault on its target: the target's range points and the fault's times, in epoch seconds. */
interface ResourceCheck {
  fault: FaultRecord;
  names: RuntimeContract;
  points: (name: string | undefined) => Points;
  applied: number;
  reverted: number;
  add: (detail: string) => void;
  observe: (observed: Record<string, unknown>) => void;
}

/**
 * A resource fault shows on the runtime gauges of its target, on the journal's clock: memory held raises the heap
 * gauge by >= 80% of it within two scrapes (+1 s for the range step) and it falls back by half of it after the
 * revert; a stall of blockMs every everyMs shows an event-loop max lag >= 90% of blockMs and a utilisation up by half
 * the blocked share; a CPU burn raises the process CPU rate by >= 60% of the burned fraction (the mesh shares two
 * cores). The gauges are telemetry under test; the fault journal (declared and measured effect) is the truth.
 */
function resourceFaults(view: RunView): AssertionResult {
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const faults = view.evidence.faults.filter((f) => faultSignature(f.kind).runtime);
  let compared = 0;
  for (const fault of faults) {
    const service = view.service(fault.target);
    const add = (detail: string) => findings.add({ detail: `${fault.kind} on ${fault.target}: ${detail}` });
    if (!service) {
      add("not a service of the run");
      continue;
    }
    const check = resourceCheck(view, fault, service, add, (o) => (observed[fault.id] = o));
    const shows = SHOWS[faultSignature(fault.kind).runtime!];
    if (shows(check)) compared++;
  }
  return verdict(
    RUNTIME_ASSERTIONS.resourceFaults,
    "runtime",
    findings,
    {
      passed: `the runtime gauges of all ${faults.length} resource faults' targets moved as declared: ${JSON.stringify(observed)}`,
      failed: "a resource fault did not show on its target's runtime gauges",
    },
    {
      compared,
      minimum: faults.length,
      what: "resource faults",
      because: "the journal's memory, stall and cpu faults",
    },
    {
      memory: "heap +80% within 3 s, back by 50% within 3 s of the revert",
      stall: "max lag >= 90% of the block",
      cpu: "+60% of the fraction",
    },
    observed,
  );
}

function resourceCheck(
  view: RunView,
  fault: FaultRecord,
  service: ServiceInfo,
  add: (detail: string) => void,
  observe: (observed: Record<string, unknown>) => void,
): ResourceCheck {
  const names = view.contract(service).runtimeMetrics;
  const instance = view.contract(service).labels.instance;
  const points = (name: string | undefined) =>
    (name &&
      view.evidence.metrics.range.find((s) => s.name === name && s.labels[instance] === service.instance)?.values) ||
    [];
  const applied = fault.appliedAtMs / 1000;
  const reverted = heldUntil(fault, view.evidence.window.endMs) / 1000;
  return { fault, names, points, applied, reverted, add, observe };
}

function pointsWithin(values: Points, from: number, to: number): number[] {
  return values.filter(([t]) => t >= from && t <= to).map(([, v]) => v);
}

/** The values of the 3 s before the fault. */
function pointsBefore(values: Points, applied: number): number[] {
  return pointsWithin(values, applied - 3, applied - 0.001);
}

/** Memory held: the heap rose by >= 80% of it and fell by half of it after the revert; false when not judged. */
function memoryShows({ fault, names, points, applied, reverted, add, observe }: ResourceCheck): boolean {
  const mb = Number(fault.params.mb);
  const heap = points(names.heapUsedBytes);
  // Heap used swings with garbage between collections: the live heap is the lowest point around the fault (the
  // revert collects at once). Risen: >= 80% of it above that within 3 s; fallen: half of it off the peak within
  // 3 s of the revert.
  const after = pointsWithin(heap, reverted + 0.001, reverted + 3);
  const base = Math.min(...pointsBefore(heap, applied), ...after);
  const peak = Math.max(...pointsWithin(heap, applied, reverted));
  const risen = heap.find(([t, v]) => t >= applied && t <= applied + 3 && v - base >= mb * 0.8 * MIB);
  const fell = heap.find(([t, v]) => t > reverted && t <= reverted + 3 && peak - v >= mb * 0.5 * MIB);
  observe({
    target: fault.target,
    heapLiveMiB: Number.isFinite(base) ? Math.round(base / MIB) : null,
    heapPeakMiB: Number.isFinite(peak) ? Math.round(peak / MIB) : null,
    risenAfterS: risen ? Math.round((risen[0] - applied) * 10) / 10 : null,
    fellAfterRevertS: fell ? Math.round((fell[0] - reverted) * 10) / 10 : null,
  });
  if (!Number.isFinite(base) || !Number.isFinite(peak)) {
    add(`no ${names.heapUsedBytes} points around it (3 s before, while held, 3 s after)`);
    return false;
  }
  if (!risen)
    add(
      `${names.heapUsedBytes} did not rise by ${Math.round(mb * 0.8)} MiB within 3 s of the fault (peak +${Math.round((peak - base) / MIB)} MiB over the live heap)`,
    );
  if (!fell)
    add(`${names.heapUsedBytes} did not fall by ${Math.round(mb * 0.5)} MiB from its peak within 3 s of the revert`);
  return true;
}

/** A stall: the event-loop max lag reached 90% of the block, and utilisation rose by half the blocked share. */
function stallShows({ fault, names, points, applied, reverted, add, observe }: ResourceCheck): boolean {
  const blockS = Number(fault.params.blockMs) / 1000;
  const blocked = Number(fault.params.blockMs) / Number(fault.params.everyMs);
  // A process frozen from outside (a cgroup) shows its blocks as lag; a frozen loop is idle, not busy. A runtime
  // without an event loop has no gauge of it to judge.
  const frozen = fault.via === "cgroup";
  if (frozen && !names.eventLoopLagMaxSeconds) return false;
  if (!names.eventLoopLagMaxSeconds || (!frozen && !names.eventLoopUtilization)) {
    add("the contract names no event-loop max lag and utilisation gauges to judge a stall by");
    return false;
  }
  const lagMax = Math.max(...pointsWithin(points(names.eventLoopLagMaxSeconds), applied, reverted + 2));
  if (frozen) {
    observe({ target: fault.target, lagMaxSeconds: lagMax });
    if (!(lagMax >= blockS * 0.9))
      add(`${names.eventLoopLagMaxSeconds} peaked at ${lagMax} s while it held, the freezes were ${blockS} s`);
    return true;
  }
  // The baseline is the median of the 3 s before, not one point: a service whose gauge covers the time since its
  // last read (the kit's did, before it sampled on a timer) reads ~1 for a scrape right after another reader's.
  const eluBefore = median(pointsBefore(points(names.eventLoopUtilization!), applied));
  const eluDuring = Math.max(...pointsWithin(points(names.eventLoopUtilization!), applied + 1, reverted + 1));
  observe({ target: fault.target, lagMaxSeconds: lagMax, utilisationBefore: eluBefore, utilisationDuring: eluDuring });
  if (!(lagMax >= blockS * 0.9))
    add(`${names.eventLoopLagMaxSeconds} peaked at ${lagMax} s while it held, the blocks were ${blockS} s`);
  if (eluBefore === null) add(`no ${names.eventLoopUtilization} points in the 3 s before it`);
  else if (!(eluDuring >= eluBefore + blocked * 0.5))
    add(
      `${names.eventLoopUtilization} ${eluBefore} before (median), at most ${eluDuring} while ${Math.round(blocked * 100)}% of the loop was blocked`,
    );
  return true;
}

/** A CPU burn: the process CPU rate rose by >= 60% of the burned fraction. */
function cpuShows({ fault, names, points, applied, reverted, add, observe }: ResourceCheck): boolean {
  const fraction = Number(fault.params.fraction);
  const cpu = points(names.cpuSecondsTotal);
  const rate = (values: Points) =>
    values.length >= 2 ? (values.at(-1)![1] - values[0]![1]) / (values.at(-1)![0] - values[0]![0]) : undefined;
  const rateBefore = rate(cpu.filter(([t]) => t >= applied - 3 && t < applied));
  // A range point holds the last scrape before it (1 s interval): points from applied + 1 s to the revert hold
  // scrapes taken while it burned.
  const rateDuring = rate(cpu.filter(([t]) => t >= applied + 1 && t <= reverted));
  observe({ target: fault.target, coresBefore: rateBefore ?? null, coresDuring: rateDuring ?? null });
  if (rateBefore === undefined || rateDuring === undefined) {
    add(`too few ${names.cpuSecondsTotal} points before or during it to compare rates`);
    return false;
  }
  if (!(rateDuring - rateBefore >= fraction * 0.6))
    add(
      `${names.cpuSecondsTotal} rate ${rateBefore.toFixed(2)} -> ${rateDuring.toFixed(2)} cores, expected +${(fraction * 0.6).toFixed(2)} (60% of ${fraction})`,
    );
  return true;
}

/** A counter's increase over the run on one service, across its process's lives (a kill or restart resets it). */
function increase(metrics: MetricView, service: ServiceInfo, name: string): number {
  const selector = { name, where: { [metrics.contract(service).labels.instance]: service.instance } };
  return sum(deltaAcrossLives(metrics.start, metrics.lives(service), metrics.end, selector, () => "").values());
}

/** Why a gauge does not move over the run's range data, or undefined when it does. */
function moves(series: MetricSeries | undefined): string | undefined {
  if (!series || series.values.length < 2)
    return `has ${series?.values.length ?? 0} range points over the run, expected >= 2 to see it move`;
  const first = series.values[0]![1];
  return series.values.every(([, v]) => v === first) ? `stayed at ${first} over the run` : undefined;
}

/** CPU seconds rose during load, and their rate never passed the machine's cores. */
function checkCpu({ view, metrics, service, names, tallies, add, range }: ServiceCheck, cores: number): void {
  const name = names.cpuSecondsTotal;
  const observed = tallies.observed.cpu;
  const start = metrics.latest(service, name, view.evidence.metrics.start)[0]?.value;
  const end = metrics.latest(service, name)[0]?.value;
  const values = range(name)?.values ?? [];
  let peak: number | undefined;
  for (let i = 1; i < values.length; i++) {
    const [t0, v0] = values[i - 1]!;
    const [t1, v1] = values[i]!;
    if (t1 > t0 && v1 >= v0) peak = Math.max(peak ?? 0, (v1 - v0) / (t1 - t0));
  }
  observed[service.name] = { secondsAtStart: start, secondsAtEnd: end, peakCores: peak };
  if (end === undefined) return add("cpu", `exposes no ${name}`);
  if (start === undefined || !(increase(metrics, service, name) > 0))
    add("cpu", `${name} went from ${start ?? "absent"} to ${end}: no CPU used during load`);
  if (peak !== undefined && peak > cores * 1.05)
    add("cpu", `CPU rate peaked at ${peak.toFixed(2)} cores on a ${cores}-core machine`);
  if (values.length < 2) add("cpu", `${name} has ${values.length} range points, expected >= 2`);
}

/** How each runtime signature shows on the service's gauges while its fault holds. */
const SHOWS: Record<NonNullable<FaultSignature["runtime"]>, (check: ResourceCheck) => boolean> = {
  heap: memoryShows,
  "event-loop": stallShows,
  cpu: cpuShows,
};
