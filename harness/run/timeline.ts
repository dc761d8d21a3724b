import { setTimeout as sleep } from "node:timers/promises";
import type { FaultSpec } from "../../assertions/faults";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import type { FaultJournal } from "../faults/journal";
import { runInlineLoad, type LoadResult } from "../load/inline-driver";
import { runK6Load, type K6Extras } from "../load/k6-driver";
import type { LoadPlan } from "../load/load-plan";
import type { LoadCounts } from "../load/progress";
import { holdConnections } from "../probes/connection-hold";
import type { MeshSession } from "./acquire-mesh";
import { AbortRun, type RunContext } from "./scenario-run";

/** What the load did on the timeline: the request log, when the load window began and ended, and its figures. */
export interface Timeline {
  plan: LoadPlan;
  load: LoadResult & { k6?: K6Extras };
  window: { startMs: number; endMs: number };
  measurements: Record<string, number>;
}

/** The driver's plan for a scenario's load (warm-up included), seeded by the run. */
export function loadPlanOf(scenario: Scenario, seed: number): LoadPlan {
  const load = scenario.load;
  return {
    ratePerSec: load.ratePerSec,
    durationMs: load.warmupMs + load.durationMs,
    ...(load.stages ? { stages: load.stages } : {}),
    ...(load.traceparent ? { traceparent: load.traceparent } : {}),
    routes: load.routes,
    seed,
    ...(load.timeoutMs ? { timeoutMs: load.timeoutMs } : {}),
  };
}

/** Load and faults on one clock: each fault applied at load start + atMs and reverted after durationMs. */
export async function runTimeline(scenario: Scenario, session: MeshSession, context: RunContext): Promise<Timeline> {
  const plan = loadPlanOf(scenario, context.seed);
  const startMs = Date.now();
  const faults = scheduleFaults(session.journal, scenario.faults, context.signal);
  // Go services' goroutine gauges get a change the harness made to follow (see connection-hold.ts).
  const goInstances = Object.values(session.mesh.services)
    .filter((s) => s.contract.runtime === "go" && s.contract.runtimeMetrics && s.instance)
    .map((s) => s.instance);
  const held = goInstances.length ? holdConnections([...new Set(goInstances)], { signal: faults.signal }) : undefined;
  const target = { baseUrl: session.mesh.edgeUrl, routes: context.target.routes };
  const onProgress = (counts: LoadCounts) =>
    context.reporter.onLoadProgress?.({
      scenario: scenario.name,
      ...counts,
      faults: session.journal.records.filter((r) => r.revertedAtMs === undefined).map((r) => `${r.kind} ${r.target}`),
    });
  let load: LoadResult & { k6?: K6Extras };
  try {
    load =
      scenario.load.driver === "k6"
        ? await runK6Load(plan, target, faults.signal, {
            ...(scenario.load.thresholds ? { thresholds: scenario.load.thresholds } : {}),
            onProgress,
          })
        : await runInlineLoad(plan, target, faults.signal, onProgress);
  } finally {
    await faults.cancelAndRevert();
    await held;
    const failure = faults.failure();
    if (failure) throw failure;
  }
  context.signal?.throwIfAborted();
  if (load.k6 && load.k6.exitCode === 2)
    throw new AbortRun(`k6 did not run the load (${load.k6.outcome}); its files were in ${load.k6.workDir}`);
  const endMs = Math.max(...load.requests.map((r) => r.endMs), startMs);
  return { plan, load, window: { startMs, endMs }, measurements: loadMeasurements(plan, load, startMs, endMs) };
}

function loadMeasurements(plan: LoadPlan, load: Timeline["load"], startMs: number, endMs: number) {
  const seconds = Math.max(0.001, (endMs - startMs) / 1000);
  return {
    requests: load.requests.length,
    plannedPeakPerSec: Math.max(plan.ratePerSec, ...(plan.stages ?? []).map((s) => s.targetRatePerSec)),
    achievedPerSec: Math.round((load.requests.length / seconds) * 10) / 10,
    scheduleDriftP99Ms: load.scheduleDriftP99Ms,
    ...(load.k6 ? { k6DroppedIterations: load.k6.droppedIterations } : {}),
  };
}

/** Applies each fault at load start + atMs and reverts it after durationMs, all on the harness's clock. */
function scheduleFaults(journal: FaultJournal, faults: readonly FaultSpec[], signal?: AbortSignal) {
  // Aborted when the run is, or when a fault cannot be applied: the load stops and the run is aborted.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  // An abort already fired never calls a listener added after it.
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  let failure: Error | undefined;
  const t0 = performance.now();
  const wait = (untilMs: number) =>
    sleep(Math.max(0, untilMs - (performance.now() - t0)), undefined, { signal: controller.signal });
  const runs = faults.map(async (fault) => {
    try {
      await wait(fault.atMs);
      const active = await journal.apply(fault);
      await wait(fault.atMs + fault.durationMs).catch(() => undefined);
      await active.revert();
    } catch (error) {
      if (controller.signal.aborted) return;
      failure ??= new AbortRun(
        `fault ${fault.kind} on ${fault.target} could not be applied: ${(error as Error).message}`,
      );
      controller.abort(failure);
    }
  });
  return {
    signal: controller.signal,
    failure: () => failure,
    async cancelAndRevert() {
      // Load ended: faults not yet due are dropped, active ones reverted now.
      controller.abort();
      signal?.removeEventListener("abort", onAbort);
      await Promise.all(runs);
      await journal.revertAll();
    },
  };
}
