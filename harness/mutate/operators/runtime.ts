import { faultSignature } from "../../../assertions/faults";
import type { Evidence, MetricSample } from "../../../assertions/evidence";
import { seriesKey } from "../../../assertions/metric-query";
import type { MutationOperator } from "../../../assertions/mutation";
import { withSamples } from "../../../assertions/mutation-support";

// Runtime operators: process gauges and counters that are missing, frozen, in the wrong unit or blind to a fault.

/**
 * A counter of one service that never rises, in every life of its process: the first life ends where it started,
 * a life after a kill or restart stays at 0.
 */
function frozenCounter(e: Evidence, service: Evidence["services"][number], name: string): Evidence {
  const mine = (s: MetricSample) => s.name === name && s.labels[service.contract.labels.instance] === service.instance;
  const start = new Map(e.metrics.start.filter(mine).map((s) => [seriesKey(s.labels), s.value]));
  const startOf = (s: MetricSample) => start.get(seriesKey(s.labels)) ?? 0;
  let restarted = false;
  const faults = e.faults.map((f) => {
    if (f.target !== service.name || !f.lastSamples) return f;
    const first = !restarted;
    restarted = true;
    return { ...f, lastSamples: f.lastSamples.map((s) => (mine(s) ? { ...s, value: first ? startOf(s) : 0 } : s)) };
  });
  return withSamples({ ...e, faults }, "end", (samples) =>
    samples.map((s) => (mine(s) ? { ...s, value: restarted ? 0 : startOf(s) } : s)),
  );
}

/** Removes one service's event-loop lag gauge from the end snapshot. */
export const removeRuntimeMetric: MutationOperator = {
  name: "remove-runtime-metric",
  family: "runtime",
  models: "a runtime gauge not collected (default metrics never registered on the served registry)",
  killedBy: "runtime.event-loop",
  apply(e, rng) {
    const service = rng.pick(e.services.filter((s) => s.contract.runtimeMetrics?.eventLoopLagSeconds));
    if (!service) return undefined;
    const name = service.contract.runtimeMetrics!.eventLoopLagSeconds!;
    const mine = (s: MetricSample) =>
      s.name === name && s.labels[service.contract.labels.instance] === service.instance;
    return {
      evidence: withSamples(e, "end", (samples) => samples.filter((s) => !mine(s))),
      change: `${service.name} exposes no ${name}`,
    };
  },
};

/** Holds one service's heap-used range series at its first value. */
export const freezeGauge: MutationOperator = {
  name: "freeze-gauge",
  family: "runtime",
  models: "a gauge set once at start-up and never updated",
  killedBy: "runtime.heap",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const name = service.contract.runtimeMetrics?.heapUsedBytes;
    if (name === undefined) return undefined;
    const range = e.metrics.range.map((s) =>
      s.name === name && s.labels[service.contract.labels.instance] === service.instance
        ? { ...s, values: s.values.map(([t]) => [t, s.values[0]![1]] as [number, number]) }
        : s,
    );
    return {
      evidence: { ...e, metrics: { ...e.metrics, range } },
      change: `${service.name} ${name} frozen over the run`,
    };
  },
};

/** Keeps one service's GC-duration _count from rising. */
export const freezeGcCount: MutationOperator = {
  name: "freeze-gc-count",
  family: "runtime",
  models: "GC metrics that never update (an observer not registered)",
  killedBy: "runtime.gc",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const gc = service.contract.runtimeMetrics?.gcDuration;
    if (!gc) return undefined;
    const name = `${gc.name}_count`;
    return { evidence: frozenCounter(e, service, name), change: `${service.name} ${name} did not rise` };
  },
};

/** Sets one service's up series to 0. */
export const targetDown: MutationOperator = {
  name: "target-down",
  family: "runtime",
  models: "a scrape target that stopped answering",
  killedBy: "runtime.up",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const mine = (s: MetricSample) =>
      s.name === service.contract.up && s.labels[service.contract.labels.instance] === service.instance;
    return {
      evidence: withSamples(e, "end", (samples) => samples.map((s) => (mine(s) ? { ...s, value: 0 } : s))),
      change: `${service.name} up = 0`,
    };
  },
};

/** Divides one service's resident-memory gauge by 1024. */
export const rssBelowHeap: MutationOperator = {
  name: "rss-below-heap",
  family: "runtime",
  models: "a memory gauge in the wrong unit (kB reported as bytes)",
  killedBy: "runtime.rss",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const name = service.contract.runtimeMetrics?.residentMemoryBytes;
    if (name === undefined) return undefined;
    const mine = (s: MetricSample) =>
      s.name === name && s.labels[service.contract.labels.instance] === service.instance;
    return {
      evidence: withSamples(e, "end", (samples) =>
        samples.map((s) => (mine(s) ? { ...s, value: Math.round(s.value / 1024) } : s)),
      ),
      change: `${service.name} ${name} / 1024`,
    };
  },
};

/** Keeps one service's CPU-seconds counter from rising. */
export const cpuStalled: MutationOperator = {
  name: "cpu-stalled",
  family: "runtime",
  models: "a CPU counter that is not updated (a cached process-stats read)",
  killedBy: "runtime.cpu",
  apply(e, rng) {
    const service = rng.pick(e.services);
    const name = service.contract.runtimeMetrics?.cpuSecondsTotal;
    if (name === undefined) return undefined;
    return { evidence: frozenCounter(e, service, name), change: `${service.name} ${name} did not rise` };
  },
};

/** Keeps a killed or restarted service's start time at its first value. */
export const restartUnseen: MutationOperator = {
  name: "restart-unseen",
  family: "runtime",
  models: "a process start time read once and cached (or a restart counted as the same process)",
  killedBy: "runtime.restarts",
  apply(e) {
    const fault = e.faults.find((f) => faultSignature(f.kind).newLife);
    const service = fault && e.services.find((s) => s.name === fault.target);
    const name = service?.contract.runtimeMetrics?.startTimeSeconds;
    if (!service || name === undefined) return undefined;
    const mine = (s: MetricSample) =>
      s.name === name && s.labels[service.contract.labels.instance] === service.instance;
    const first = e.metrics.start.find(mine);
    if (!first) return undefined;
    return {
      evidence: withSamples(e, "end", (samples) => samples.map((s) => (mine(s) ? { ...s, value: first.value } : s))),
      change: `${service.name} ${name} unchanged across its ${fault!.kind}`,
    };
  },
};

/** Flattens the runtime series a memory, stall or cpu fault moves, from 3 s before the fault on. */
export const resourceGaugeFlat: MutationOperator = {
  name: "resource-gauge-flat",
  family: "runtime",
  models: "a runtime gauge that does not follow the process (heap, lag or CPU read from a stale source)",
  killedBy: "runtime.resource-faults",
  apply(e, rng) {
    const fault = rng.pick(e.faults.filter((f) => faultSignature(f.kind).runtime));
    const service = fault && e.services.find((s) => s.name === fault.target);
    const r = service?.contract.runtimeMetrics;
    if (!fault || !service || !r) return undefined;
    const runtime = faultSignature(fault.kind).runtime;
    const name = { heap: r.heapUsedBytes, "event-loop": r.eventLoopLagMaxSeconds, cpu: r.cpuSecondsTotal }[runtime!];
    const from = fault.appliedAtMs / 1000 - 3;
    const range = e.metrics.range.map((series) => {
      if (series.name !== name || series.labels[service.contract.labels.instance] !== service.instance) return series;
      // Every point from 3 s before the fault on holds the value before it (a counter: its rate before it).
      const before = series.values.filter(([t]) => t < from).at(-1) ?? series.values[0];
      if (!before) return series;
      const previous = series.values.filter(([t]) => t < from).at(-2) ?? before;
      const step = runtime === "cpu" ? (before[1] - previous[1]) / Math.max(1e-9, before[0] - previous[0]) : 0;
      return {
        ...series,
        values: series.values.map(([t, v]): [number, number] =>
          t < from ? [t, v] : [t, before[1] + step * (t - before[0])],
        ),
      };
    });
    return {
      evidence: { ...e, metrics: { ...e.metrics, range } },
      change: `${service.name} ${name} does not move during its ${fault.kind} fault`,
    };
  },
};
