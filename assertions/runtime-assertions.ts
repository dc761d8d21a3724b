import type { TelemetryContract } from "./contract";
import { DEFAULT_CONTRACT } from "./contract";
import type { AssertionResult, Evidence, ServiceInfo } from "./evidence";
import type { Expectations } from "./expectations";
import { labelsOf, ofService, select } from "./metric-query";
import { Findings, verdict } from "./result";

/** Stable ids of the runtime family. */
export const RUNTIME_ASSERTIONS = {
  up: "runtime.up",
  heap: "runtime.heap",
  gc: "runtime.gc",
  eventLoop: "runtime.event-loop",
  rss: "runtime.rss",
  cpu: "runtime.cpu",
} as const;

/**
 * Family "runtime": every service's target is up and exposes sane runtime metrics (heap, GC by kind, event loop, RSS,
 * CPU), and its gauges move over the run (a frozen gauge is a registry that is not collected).
 */
export function assertRuntime(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  const { maxEventLoopLagSeconds = 1, cpuCores = 2 } = expectations.runtime ?? {};
  const names = contract.runtime;
  const end = evidence.metrics.end;
  const value = (service: ServiceInfo, name: string) => select(end, ofService(contract, service, name))[0]?.value;
  const found = {
    up: new Findings(),
    heap: new Findings(),
    gc: new Findings(),
    eventLoop: new Findings(),
    rss: new Findings(),
    cpu: new Findings(),
  };
  const observed: Record<keyof typeof found, Record<string, unknown>> = {
    up: {},
    heap: {},
    gc: {},
    eventLoop: {},
    rss: {},
    cpu: {},
  };
  const need = (key: keyof typeof found, service: ServiceInfo, name: string): number | undefined => {
    const v = value(service, name);
    if (v === undefined) found[key].add({ detail: `${service.name} (${service.instance}) exposes no ${name}` });
    return v;
  };

  for (const service of evidence.services) {
    const add = (key: keyof typeof found, detail: string) => found[key].add({ detail: `${service.name}: ${detail}` });

    const up = value(service, contract.up ?? "up");
    observed.up[service.name] = up ?? null;
    if (up !== 1) add("up", `up is ${up ?? "absent"} for target ${service.instance}, expected 1`);

    const used = need("heap", service, names.heapUsedBytes);
    const total = need("heap", service, names.heapTotalBytes);
    observed.heap[service.name] = { used, total };
    if (used !== undefined && total !== undefined && !(used > 0 && used <= total))
      add("heap", `heap used ${used} B is not within (0, total ${total} B]`);
    const movement = gaugeMovement(evidence, contract, service, names.heapUsedBytes);
    if (movement) add("heap", movement);

    const gcCounts = select(end, ofService(contract, service, `${names.gcDurationSeconds}_count`));
    const kindKey = labelsOf(contract).gcKind;
    const gcTotal = gcCounts.reduce((sum, s) => sum + s.value, 0);
    observed.gc[service.name] = Object.fromEntries(gcCounts.map((s) => [s.labels[kindKey] ?? "?", s.value]));
    if (gcTotal <= 0) add("gc", `${names.gcDurationSeconds}_count is ${gcCounts.length ? 0 : "absent"}, expected > 0`);
    if (gcCounts.some((s) => s.labels[kindKey] === undefined))
      add("gc", `${names.gcDurationSeconds} has series without the "${kindKey}" label`);

    const lag = need("eventLoop", service, names.eventLoopLagSeconds);
    const utilization = need("eventLoop", service, names.eventLoopUtilization);
    observed.eventLoop[service.name] = { lagSeconds: lag, utilization };
    if (lag !== undefined && !(lag >= 0 && lag <= maxEventLoopLagSeconds))
      add("eventLoop", `event-loop lag ${lag} s is not within [0, ${maxEventLoopLagSeconds}] s`);
    if (utilization !== undefined && !(utilization >= 0 && utilization <= 1))
      add("eventLoop", `event-loop utilisation ${utilization} is not within [0, 1]`);

    const rss = need("rss", service, names.residentMemoryBytes);
    observed.rss[service.name] = rss;
    if (rss !== undefined && !(rss > 0 && (used === undefined || rss >= used)))
      add("rss", `RSS ${rss} B is not > 0 and >= heap used ${used ?? "?"} B`);

    const cpu = need("cpu", service, names.cpuSecondsTotal);
    const cpuStart = select(evidence.metrics.start, ofService(contract, service, names.cpuSecondsTotal))[0]?.value;
    const peakRate = peakCounterRate(evidence, contract, service, names.cpuSecondsTotal);
    observed.cpu[service.name] = { seconds: cpu, peakCores: peakRate };
    if (cpu !== undefined && !(cpu > 0)) add("cpu", `CPU ${cpu} s is not > 0`);
    if (cpu !== undefined && cpuStart !== undefined && cpu < cpuStart)
      add("cpu", `CPU seconds went down from ${cpuStart} to ${cpu} (process restarted?)`);
    if (peakRate !== undefined && peakRate > cpuCores * 1.05)
      add("cpu", `CPU rate peaked at ${peakRate.toFixed(2)} cores on a ${cpuCores}-core machine`);
  }

  const services = evidence.services.length;
  const judge = (key: keyof typeof found, claim: string, expected: unknown) =>
    verdict(
      RUNTIME_ASSERTIONS[key],
      "runtime",
      found[key],
      { passed: `all ${services} services ${claim}`, failed: `${found[key].count} runtime finding(s)` },
      expected,
      observed[key],
    );
  return [
    judge("up", "are up", { up: 1 }),
    judge("heap", "expose heap used <= total, and heap used moves", { usedBytes: "(0, total]", moves: true }),
    judge("gc", `expose GC durations by ${labelsOf(contract).gcKind} with count > 0`, { count: "> 0" }),
    judge("eventLoop", "expose sane event-loop lag and utilisation", { lagSeconds: `[0, ${maxEventLoopLagSeconds}]` }),
    judge("rss", "expose RSS >= heap used", { rssBytes: "> 0, >= heap used" }),
    judge("cpu", "expose CPU seconds > 0, monotonic, within the cores", {
      seconds: "> 0",
      peakCores: `<= ${cpuCores}`,
    }),
  ];
}

function rangeOf(evidence: Evidence, contract: TelemetryContract, service: ServiceInfo, name: string) {
  const instanceKey = labelsOf(contract).instance;
  return evidence.metrics.range.find((s) => s.name === name && s.labels[instanceKey] === service.instance);
}

/** Why a gauge does not move over the run's range data, or undefined when it does. */
function gaugeMovement(evidence: Evidence, contract: TelemetryContract, service: ServiceInfo, name: string) {
  const series = rangeOf(evidence, contract, service, name);
  if (!series || series.values.length < 2)
    return `${name} has ${series?.values.length ?? 0} range points, expected >= 2 to see it move`;
  const first = series.values[0]?.[1];
  return series.values.every(([, v]) => v === first) ? `${name} stayed at ${first} over the run` : undefined;
}

function peakCounterRate(evidence: Evidence, contract: TelemetryContract, service: ServiceInfo, name: string) {
  const values = rangeOf(evidence, contract, service, name)?.values ?? [];
  let peak: number | undefined;
  for (let i = 1; i < values.length; i++) {
    const [t0, v0] = values[i - 1]!;
    const [t1, v1] = values[i]!;
    if (t1 > t0 && v1 >= v0) peak = Math.max(peak ?? 0, (v1 - v0) / (t1 - t0));
  }
  return peak;
}
