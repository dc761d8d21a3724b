import { faultSignature } from "./faults";
import type { RuntimeContract, TelemetryContract } from "./contract";
import type { AssertionResult, MetricSeries, ServiceInfo } from "./evidence";
import { deltaAcrossLives, sum } from "./metric-query";
import type { MetricView } from "./metric-view";
import { metricView, noMetricsReason } from "./metric-view";
import { Findings, notPromised, verdict } from "./result";
import type { RunView } from "./run-view";
import { RUNTIME_ASSERTIONS } from "./runtime/ids";
import { resourceFaults } from "./runtime/resource-faults";

export { RUNTIME_ASSERTIONS } from "./runtime/ids";

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

/** One service under judgement of its target's health: the readers every check uses. */
interface TargetCheck {
  view: RunView;
  metrics: MetricView;
  service: ServiceInfo;
  contract: TelemetryContract;
  tallies: Tallies;
  add: (key: Key, detail: string) => void;
  /** The gauge's value at the end of the run. */
  value: (name: string) => number | undefined;
  /** value(), and a finding for `key` when the service does not expose it. */
  need: (key: Key, name: string) => number | undefined;
  range: (name: string) => MetricSeries | undefined;
}

/** One service under judgement of its runtime gauges: its contract's runtime metric names too. */
interface ServiceCheck extends TargetCheck {
  names: RuntimeContract;
}

/** The services whose runtime is judged: those with /metrics, whose contract names runtime metrics. */
function runtimeServices(view: RunView, metrics: MetricView): ServiceInfo[] {
  return metrics.withMetrics.filter((s) => view.contract(s).runtimeMetrics !== undefined);
}

/**
 * Family "runtime": every service's target is up and its runtime gauges are present, within physical bounds and
 * moving — each service judged by its runtime's contract: heap used within (0, heap total] and moving; GC count
 * rising during load; Node: event-loop lag and utilisation in bounds and not constant; Go: goroutines in bounds and
 * not constant; RSS >= heap used and below the machine's memory; CPU seconds rising, monotonic, never faster than
 * the machine's cores. A service without /metrics is left out of all of it, one whose contract names no runtime
 * metrics of all but `up`; a claim with no service left is not promised.
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
  for (const service of metrics.withMetrics) {
    const check = targetCheck(view, metrics, service, tallies);
    const names = check.contract.runtimeMetrics;
    if (names) checkService({ ...check, names }, limits);
    else checkUp(check);
  }
  return [
    ...runtimeVerdicts(view, tallies, limits),
    ...(view.evidence.faults.some((f) => faultSignature(f.kind).runtime) ? [resourceFaults(view)] : []),
  ];
}

function targetCheck(view: RunView, metrics: MetricView, service: ServiceInfo, tallies: Tallies): TargetCheck {
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
  return { view, metrics, service, contract, tallies, add, value, need, range };
}

/** Every runtime check of one service, in the order their findings are told. */
function checkService(c: ServiceCheck, limits: Limits): void {
  const restarted = checkRestarts(c);
  checkUp(c);
  const used = checkHeap(c, limits.memoryBytes);
  checkGc(c, restarted);
  if (c.contract.runtime === "node") checkEventLoop(c, limits.maxEventLoopLagSeconds);
  else checkGoroutines(c, limits.memoryBytes);
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

function checkUp({ service, contract, tallies, add, value }: TargetCheck): void {
  const up = value(contract.up);
  if (up !== undefined) tallies.judged.up++;
  tallies.observed.up[service.name] = up ?? null;
  if (up !== 1) add("up", `${contract.up} is ${up ?? "absent"} for target ${service.instance}, expected 1`);
}

/**
 * Heap used within (0, total], total within the machine's memory, and moving; every point of the run's heap-used
 * series too, against the heap total of the same scrape where the range holds it (else the machine's memory): a gauge
 * a few scrapes of which are off by a unit of scale is as wrong as one whose last value is. Returns heap used.
 */
function checkHeap({ service, names, tallies, add, need, range }: ServiceCheck, memoryBytes: number) {
  const used = need("heap", names.heapUsedBytes);
  const total = need("heap", names.heapTotalBytes);
  if (used !== undefined && total !== undefined) tallies.judged.heap++;
  const usedRange = range(names.heapUsedBytes);
  const heapMoves = moves(usedRange);
  tallies.observed.heap[service.name] = { usedBytes: used, totalBytes: total, moves: heapMoves === undefined };
  if (used !== undefined && total !== undefined && !(used > 0 && used <= total && total <= memoryBytes))
    add("heap", `heap used ${used} B, total ${total} B: not 0 < used <= total <= ${memoryBytes} B`);
  if (heapMoves) add("heap", `${names.heapUsedBytes} ${heapMoves}`);
  const totals = new Map(range(names.heapTotalBytes)?.values ?? []);
  const outside = (usedRange?.values ?? []).filter(([t, v]) => !(v > 0 && v <= (totals.get(t) ?? memoryBytes)));
  if (outside.length > 0) {
    const [t, v] = outside[0]!;
    const bound = totals.has(t) ? `heap total ${totals.get(t)} B of that scrape` : `the machine's ${memoryBytes} B`;
    add(
      "heap",
      `${outside.length} of ${usedRange!.values.length} points of ${names.heapUsedBytes} over the run are not within (0, bound]; first: ${v} B at ${t} s, above ${bound}`,
    );
  }
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

/**
 * Every live goroutine holds a stack of at least Go's minimum, 2 KiB (runtime's stackMin), which it runs on: so a
 * process holds no more goroutines than its memory (its largest /proc RSS, a harness record) over 2 KiB.
 */
const GOROUTINE_STACK_BYTES = 2048;

/** Go: the goroutine count in bounds and moving. */
function checkGoroutines({ view, service, names, tallies, add, need, range }: ServiceCheck, memoryBytes: number): void {
  const name = names.goroutines!;
  const goroutines = need("goroutines", name);
  if (goroutines !== undefined) tallies.judged.goroutines++;
  tallies.observed.goroutines[service.name] = goroutines;
  const rss = (view.evidence.processes ?? []).filter((p) => p.service === service.name && p.rssBytes !== undefined);
  const [memory, whose] = rss.length
    ? [Math.max(...rss.map((p) => p.rssBytes!)), "its largest RSS in /proc"]
    : [memoryBytes, "the machine's memory"];
  const most = Math.floor(memory / GOROUTINE_STACK_BYTES);
  if (goroutines !== undefined && !(goroutines >= 1 && goroutines <= most))
    add("goroutines", `${name} is ${goroutines}, not within [1, ${most}] (${whose}, ${memory} B, over 2 KiB stacks)`);
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
  const metrics = metricView(view);
  const targets = metrics.withMetrics.length;
  const runtime = runtimeServices(view, metrics);
  const node = runtime.filter((s) => view.contract(s).runtime === "node").length;
  const go = runtime.filter((s) => view.contract(s).runtime === "go").length;
  const why = unpromisedRuntime(view, metrics);
  const judge = (key: Key, claim: string, count: number, expected: Record<string, unknown>) =>
    count === 0 && view.evidence.services.length > 0
      ? notPromised(RUNTIME_ASSERTIONS[key], "runtime", key === "up" ? why.up : why.runtime)
      : verdict(
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
    judge("up", "are up", targets, { up: 1 }),
    judge("heap", "have heap used within (0, total] and moving", runtime.length, {
      usedBytes: "(0, total]",
      moves: true,
    }),
    judge("gc", "counted garbage collections during load", runtime.length, { gcCountRises: true }),
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
            goroutines: `[1, memory / ${GOROUTINE_STACK_BYTES} B]: the largest /proc RSS, or ${memoryBytes} B`,
            moves: true,
          }),
        ]
      : []),
    judge("rss", "have RSS between heap used and the machine's memory", runtime.length, {
      rssBytes: `[heap used, ${memoryBytes}]`,
    }),
    judge("cpu", "used CPU during load, monotonic and within the cores", runtime.length, {
      secondsRise: true,
      peakCores: `<= ${cpuCores}`,
    }),
    judge("restarts", "restarted exactly when a fault restarted them", runtime.length, {
      startTimeChanges: "only for services a kill or restart hit",
    }),
  ];
}

/** Why no service's target, or no service's runtime gauges, can be judged: what is missing and where it is declared. */
function unpromisedRuntime(view: RunView, metrics: MetricView): { up: string; runtime: string } {
  const without = metrics.withoutMetrics;
  const noRuntime = metrics.withMetrics.filter((s) => view.contract(s).runtimeMetrics === undefined);
  const byContract = [...new Set(noRuntime.map((s) => view.contract(s).name))].map(
    (name) =>
      `contract "${name}" of ${noRuntime
        .filter((s) => view.contract(s).name === name)
        .map((s) => s.name)
        .join(", ")} names no runtime metrics (contract runtimeMetrics)`,
  );
  const up = `no service to judge: ${noMetricsReason(without)}`;
  return {
    up,
    runtime: `no service has runtime gauges to judge: ${[...(without.length ? [noMetricsReason(without)] : []), ...byContract].join("; ")}`,
  };
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
