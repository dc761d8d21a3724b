import { faultSignature, type FaultSignature } from "../faults";
import type { RuntimeContract } from "../contract";
import type { AssertionResult, FaultRecord, ServiceInfo } from "../evidence";
import { median } from "../metric-query";
import { hasMetrics } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import type { RunView } from "../run-view";
import { heldUntil } from "../trace-shape";
import { RUNTIME_ASSERTIONS } from "./ids";

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
 * cores). The gauges are telemetry under test; the fault journal (declared and measured effect) is the truth. A
 * fault on a service without runtime gauges (no /metrics, no runtimeMetrics in its contract) is left out; with none
 * left, not promised.
 */
export function resourceFaults(view: RunView): AssertionResult {
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const leftOut: Record<string, string> = {};
  const faults = view.evidence.faults.filter((f) => faultSignature(f.kind).runtime);
  let compared = 0;
  for (const fault of faults) {
    const service = view.service(fault.target);
    const add = (detail: string) => findings.add({ detail: `${fault.kind} on ${fault.target}: ${detail}` });
    if (!service) {
      add("not a service of the run");
      continue;
    }
    const names = view.contract(service).runtimeMetrics;
    if (!hasMetrics(service) || !names) {
      leftOut[fault.id] = !hasMetrics(service)
        ? `${service.name} exposes no /metrics (services.${service.name}.metricsUrl)`
        : `contract "${view.contract(service).name}" of ${service.name} names no runtime metrics (runtimeMetrics)`;
      continue;
    }
    const check = resourceCheck(view, fault, service, names, add, (o) => (observed[fault.id] = o));
    const shows = SHOWS[faultSignature(fault.kind).runtime!];
    if (shows(check)) compared++;
  }
  const judged = faults.length - Object.keys(leftOut).length;
  if (faults.length > 0 && judged === 0)
    return notPromised(
      RUNTIME_ASSERTIONS.resourceFaults,
      "runtime",
      `no resource fault's target has runtime gauges: ${Object.values(leftOut).join("; ")}`,
      { leftOut },
    );
  if (Object.keys(leftOut).length) observed.leftOut = leftOut;
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
      minimum: judged,
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
  names: RuntimeContract,
  add: (detail: string) => void,
  observe: (observed: Record<string, unknown>) => void,
): ResourceCheck {
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

/** How each runtime signature shows on the service's gauges while its fault holds. */
const SHOWS: Record<NonNullable<FaultSignature["runtime"]>, (check: ResourceCheck) => boolean> = {
  heap: memoryShows,
  "event-loop": stallShows,
  cpu: cpuShows,
};
