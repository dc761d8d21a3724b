import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Evidence, ServiceInfo, SpanCounts } from "../assertions/evidence";
import type { Judgement } from "../assertions/evaluate";
import type { Expectations } from "../assertions/expectations";
import { collectExemplars, expectedTraces, fetchExpositions, readJsonLogs } from "./evidence/collect-evidence";
import { collectTraces } from "./evidence/collect-traces";
import { awaitScrapesAfter, rangeSeries, snapshot } from "./evidence/collect-metrics";
import { FaultJournal, type FaultPlan } from "./faults/faults";
import { NetworkFaultInjector } from "./faults/network-faults";
import { OverloadInjector } from "./faults/overload";
import { ProcessFaultInjector, withTargetLabels } from "./faults/process-faults";
import { ServiceFaultInjector } from "./faults/service-faults";
import { runInlineLoad, type LoadResult } from "./load/inline-driver";
import { runK6Load, type K6Extras } from "./load/k6-driver";
import { arrivalOffsetsMs, type LoadPlan, type LoadStage } from "./load/load-plan";
import type { StartedMesh } from "./mesh/started-mesh";
import { whyNotApplicable, type MeshTarget } from "./mesh/target";
import type { LoadCounts, Progress } from "./cli/progress";
import { ProbePoller } from "./probes/probe-poller";
import { ProcessSampler } from "./probes/process-sampler";
import { scenarioStatus, type ScenarioVerdict } from "./report/verdict";
import { retryUntil } from "./util/retry";

/** What the run loop needs of a scenario (the validated shape from scenarios/). */
export interface RunnableScenario {
  name: string;
  load: {
    /** Which load driver sends the requests. Default "inline". */
    driver?: "inline" | "k6";
    ratePerSec: number;
    durationMs: number;
    warmupMs: number;
    /** Ramping arrival rate over warm-up + duration (k6's ramping-arrival-rate); constant when absent. */
    stages?: readonly LoadStage[];
    routes: readonly { route: string; weight: number }[];
    /** Relative weights of the traceparent each request carries. Default: every request sampled. */
    traceparent?: { sampled: number; unsampled: number; none: number };
    /** k6 thresholds (k6 driver only): one crossed fails the scenario. */
    thresholds?: Record<string, string[]>;
    /** The driver's per-request timeout. Default 10000. */
    timeoutMs?: number;
  };
  faults: readonly FaultPlan[];
  expectations: Expectations;
  /** What the scenario needs of the mesh (a sampling ratio below 1). */
  mesh?: { samplingRatio?: number };
}

export interface RunContext {
  /** The mesh under test: started afresh per scenario, or an external one. */
  target: MeshTarget;
  seed: number;
  signal?: AbortSignal;
  /** Progress lines. */
  log: (line: string) => void;
  /** Live progress: the phase begun, and the load's counts with the faults in place. */
  progress?: Pick<Progress, "phase" | "load">;
  /** Judges evidence against the scenario's expectations, and measures what each fault did. */
  evaluate: (evidence: Evidence, expectations: Expectations) => Judgement;
}

/** A run that cannot be judged: the baseline did not hold before any fault, or the mesh did not start. */
export class AbortRun extends Error {}

/**
 * The series kept over time (evidence.metrics.range), by each service's contract: the runtime gauges whose movement
 * the runtime family judges, the GC count, and the RED histograms' `_count` and `_sum` by operation and code (what
 * root-cause localisation reads to see which hop's error rate or latency moved first; the counters equal `_count`).
 */
function rangeSeriesNames(services: readonly ServiceInfo[]): string[] {
  const names = services.flatMap((s) => {
    const c = s.contract;
    const r = c.runtimeMetrics;
    const red = [c.httpServerDuration, c.httpClientDuration, c.grpcServerHandling, c.grpcClientHandling].flatMap(
      (h) => [`${h.name}_count`, `${h.name}_sum`],
    );
    return [
      r.heapUsedBytes,
      r.eventLoopLagSeconds,
      r.eventLoopLagMaxSeconds,
      r.eventLoopUtilization,
      r.goroutines,
      r.cpuSecondsTotal,
      `${r.gcDuration.name}_count`,
      ...red,
    ];
  });
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}

/** One scenario's outcome: its verdict, and the evidence it was judged on (absent when aborted before it). */
export interface ScenarioRun {
  verdict: ScenarioVerdict;
  evidence?: Evidence;
  /** The k6 driver's verdict, thresholds and end-of-test summary, when k6 drove the load. */
  k6?: K6Extras;
  /** The services' log files (kept with the report when the scenario did not pass). */
  logFiles: string[];
}

/**
 * One scenario, start to verdict: mesh up, probe poller on, steady-state check, load and faults on one clock,
 * quiesce by condition, one Evidence object, assertions. The mesh and every fault are always disposed/reverted.
 */
export async function runScenario(scenario: RunnableScenario, context: RunContext): Promise<ScenarioRun> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  const measurements: Record<string, number> = {};
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    context.progress?.phase(scenario.name, name);
    try {
      return await fn();
    } finally {
      phases[name] = Math.round(performance.now() - t);
      context.log(`  ${scenario.name}: ${name} ${phases[name]} ms`);
    }
  };
  const verdict = (
    partial: Pick<ScenarioVerdict, "status" | "assertions"> & Partial<ScenarioVerdict>,
  ): ScenarioVerdict => ({
    name: scenario.name,
    durationMs: Math.round(performance.now() - started),
    groundTruth: { requests: 0, byStatus: {}, faults: [] },
    phases,
    measurements,
    ...partial,
  });

  // The scenario's call graph is the mesh's own when the mesh brings one (an external mesh).
  const expectations: Expectations = context.target.topology
    ? { ...scenario.expectations, topology: context.target.topology }
    : scenario.expectations;
  const notApplicable = whyNotApplicable(scenario.faults, context.target.capabilities, {
    wanted: scenario.mesh?.samplingRatio,
    possible: context.target.samplingRatios,
  });
  if (notApplicable)
    return { verdict: verdict({ status: "not-applicable", abortReason: notApplicable, assertions: [] }), logFiles: [] };

  let mesh: StartedMesh | undefined;
  let poller: ProbePoller | undefined;
  let sampler: ProcessSampler | undefined;
  let journal: FaultJournal | undefined;
  // A mesh whose scenario aborted, failed or left a fault unreverted is not handed to the next scenario.
  let dirty = true;
  try {
    const acquired = await phase("mesh start", () =>
      context.target.acquire(scenario.name, scenario.mesh ?? {}, context.signal).catch((error: Error) => {
        // The mesh under test never came up: nothing to judge, and the next scenario may still run.
        throw new AbortRun(error.message);
      }),
    );
    mesh = acquired.mesh;
    const services = mesh.serviceInfos();
    const { prometheus, traces: traceStore } = context.target;
    const job = mesh.scrapeJob;
    journal = new FaultJournal([
      new ServiceFaultInjector(mesh),
      new NetworkFaultInjector(mesh.toxiproxy, mesh.links),
      new ProcessFaultInjector(mesh),
      new OverloadInjector(mesh),
    ]);
    for (const fault of scenario.faults) journal.validate(fault);
    poller = new ProbePoller(
      Object.values(mesh.services).map((s) => ({ service: s.name, healthzUrl: s.healthzUrl, readyzUrl: s.readyzUrl })),
    ).start();
    const withPid = Object.values(mesh.services).filter((s) => s.pid !== undefined);
    if (withPid.length && ProcessSampler.available())
      sampler = new ProcessSampler(withPid.map((s) => ({ service: s.name, pid: () => s.pid }))).start();

    // A SIGINT/SIGTERM during the mesh's start ends the run here, not after a whole load.
    context.signal?.throwIfAborted();
    await phase("steady state", () => steadyState(mesh!, poller!, context, scenario, acquired.reused));
    const steadyMs = Date.now();
    const start = await phase("baseline scrape", async () => {
      // Counters at start must include the steady-state requests, so deltas hold only the load's. A reused mesh
      // got none since the previous scenario's quiesce waited out its scrapes: its latest scrape is the baseline.
      if (!acquired.reused) await awaitScrapesAfter(prometheus, job, services.length, steadyMs);
      return snapshot(prometheus, job);
    });

    const plan: LoadPlan = {
      ratePerSec: scenario.load.ratePerSec,
      durationMs: scenario.load.warmupMs + scenario.load.durationMs,
      ...(scenario.load.stages ? { stages: scenario.load.stages } : {}),
      ...(scenario.load.traceparent ? { traceparent: scenario.load.traceparent } : {}),
      routes: scenario.load.routes,
      seed: context.seed,
      ...(scenario.load.timeoutMs ? { timeoutMs: scenario.load.timeoutMs } : {}),
    };
    context.signal?.throwIfAborted();
    // The SDKs' span counts from here on: flushed first, so what they exported is what they had ended. The same
    // flush puts earlier log lines on disk: this scenario's start where each file ends now.
    await mesh.flush();
    const spansBefore = await spanCounts(mesh);
    const logFiles = Object.fromEntries(
      Object.values(mesh.services).flatMap((s) => (s.jsonLogFile ? [[s.name, s.jsonLogFile]] : [])),
    );
    const logOffsets = Object.fromEntries(
      Object.entries(logFiles).map(([name, file]) => [name, fs.existsSync(file) ? fs.statSync(file).size : 0]),
    );
    const windowStartMs = Date.now();
    const load = await phase("load", async (): Promise<LoadResult & { k6?: K6Extras }> => {
      const faults = scheduleFaults(journal!, scenario.faults, context.signal);
      const target = { baseUrl: mesh!.edgeUrl, routes: context.target.routes };
      const onProgress = (counts: LoadCounts) =>
        context.progress?.load({
          scenario: scenario.name,
          ...counts,
          faults: journal!.records.filter((r) => r.revertedAtMs === undefined).map((r) => `${r.kind} ${r.target}`),
        });
      try {
        return scenario.load.driver === "k6"
          ? await runK6Load(plan, target, faults.signal, {
              ...(scenario.load.thresholds ? { thresholds: scenario.load.thresholds } : {}),
              onProgress,
            })
          : await runInlineLoad(plan, target, faults.signal, onProgress);
      } finally {
        await faults.cancelAndRevert();
        const failure = faults.failure();
        if (failure) throw failure;
      }
    });
    context.signal?.throwIfAborted();
    if (load.k6 && load.k6.exitCode === 2)
      throw new AbortRun(`k6 did not run the load (${load.k6.outcome}); its files were in ${load.k6.workDir}`);
    const windowEndMs = Math.max(...load.requests.map((r) => r.endMs), windowStartMs);
    measurements.requests = load.requests.length;
    measurements.plannedPeakPerSec = Math.max(plan.ratePerSec, ...(plan.stages ?? []).map((s) => s.targetRatePerSec));
    measurements.achievedPerSec =
      Math.round((load.requests.length / Math.max(0.001, (windowEndMs - windowStartMs) / 1000)) * 10) / 10;
    measurements.scheduleDriftP99Ms = load.scheduleDriftP99Ms;
    if (load.k6) measurements.k6DroppedIterations = load.k6.droppedIterations;

    const evidence = await phase("quiesce and collect", async () => {
      await mesh!.flush();
      const spansAfter = await spanCounts(mesh!);
      const expected = expectedTraces(
        load.requests,
        expectations.topology,
        journal!.records,
        windowEndMs,
        services.find((s) => s.role === "edge")?.name ?? "",
      );
      const [traces] = await Promise.all([
        collectTraces(traceStore, expected, { exportIntervalMs: Math.max(1_000, mesh!.exportIntervalMs) }),
        awaitScrapesAfter(prometheus, job, services.length, windowEndMs),
      ]);
      const probes = await poller!.stop();
      const processes = sampler?.stop();
      const [end, range, metadata, exposition, exemplars] = await Promise.all([
        snapshot(prometheus, job),
        rangeSeries(prometheus, job, rangeSeriesNames(services), windowStartMs / 1000 - 5, Date.now() / 1000),
        prometheus.metadata(),
        fetchExpositions(Object.fromEntries(Object.values(mesh!.services).map((s) => [s.name, s.metricsUrl]))),
        collectExemplars(prometheus, job, windowStartMs, Date.now()),
      ]);
      withTargetLabels(journal!.records, start, services);
      measurements.traceQueryPasses = traces.passes;
      measurements.tracesShort = traces.short.length;
      measurements.tracesArrivedMs = traces.arrivedMs;
      measurements.tracesSettledMs = traces.settledMs;
      return {
        scenario: scenario.name,
        window: { startMs: windowStartMs, endMs: windowEndMs },
        plan: {
          // What the driver was to send, less what it reported it did not start: k6's dropped iterations, and the
          // iterations its executor never began (the last one of a ramp may fall past its end).
          requests: Math.min(
            arrivalOffsetsMs(plan).length - (load.k6?.droppedIterations ?? 0),
            load.k6 ? load.k6.iterations : Infinity,
          ),
          routes: Object.fromEntries(scenario.load.routes.map((r) => [r.route, r.weight])),
          samplingRatio: scenario.mesh?.samplingRatio ?? context.target.samplingRatio,
        },
        requests: load.requests,
        faults: journal!.records,
        probes,
        metrics: { start, end, at: {}, range, metadata, exposition, exemplars },
        traces: traces.traces,
        logs: readJsonLogs(logFiles, logOffsets),
        services,
        ...(processes ? { processes } : {}),
        spanPipeline: Object.fromEntries(
          Object.keys(spansAfter).flatMap((name) =>
            spansBefore[name] ? [[name, { before: spansBefore[name], after: spansAfter[name]! }]] : [],
          ),
        ),
      } satisfies Evidence;
    });
    const { assertions, effects } = await phase("evaluate", async () => context.evaluate(evidence, expectations));
    // k6's own thresholds are the driver's verdict on what it measured: one crossed fails the scenario too.
    const judged = scenarioStatus(assertions, effects);
    const status = judged === "passed" && load.k6?.exitCode === 1 ? "failed" : judged;
    // A mesh whose faults all reverted and whose run passed is as it was (a killed or restarted service is a new
    // process with the same ports and environment): the next scenario may use it.
    dirty = status !== "passed" || journal.records.some((r) => r.revertError !== undefined);
    return {
      logFiles: logFilesOf(mesh),
      evidence,
      ...(load.k6 ? { k6: load.k6 } : {}),
      verdict: verdict({
        status,
        assertions,
        ...(load.k6
          ? {
              k6: {
                version: load.k6.version,
                outcome: load.k6.outcome,
                exitCode: load.k6.exitCode,
                thresholds: load.k6.thresholds,
                planned: load.k6.planned,
                iterations: load.k6.iterations,
                droppedIterations: load.k6.droppedIterations,
                summary: load.k6.summaryText,
              },
            }
          : {}),
        groundTruth: {
          requests: load.requests.length,
          byStatus: countBy(load.requests.map((r) => String(r.status))),
          faults: journal.records.map((record) => ({
            ...record,
            effect: effects.find((e) => e.faultId === record.id),
          })),
        },
      }),
    };
  } catch (error) {
    if (!(error instanceof AbortRun) && !context.signal?.aborted) throw error;
    const reason = context.signal?.aborted
      ? String((context.signal.reason as Error)?.message ?? "aborted")
      : (error as Error).message;
    return {
      verdict: verdict({
        status: "aborted",
        abortReason: reason,
        assertions: [],
        groundTruth: { requests: 0, byStatus: {}, faults: journal?.records ?? [] },
      }),
      logFiles: mesh ? logFilesOf(mesh) : [],
    };
  } finally {
    await journal?.revertAll();
    await poller?.stop();
    sampler?.stop();
    if (mesh) await context.target.release(mesh, dirty);
  }
}

/** Each service's SDK span counts (admin /admin/telemetry); services without an admin API, or not answering, left out. */
async function spanCounts(mesh: StartedMesh): Promise<Record<string, SpanCounts>> {
  const read = await Promise.all(
    Object.values(mesh.services).map(async (s) => [s.name, await s.admin?.telemetry().catch(() => undefined)] as const),
  );
  return Object.fromEntries(read.flatMap(([name, stats]) => (stats?.spans ? [[name, stats.spans]] : [])));
}

function logFilesOf(mesh: StartedMesh): string[] {
  return Object.values(mesh.services).flatMap((s) => [s.jsonLogFile, s.logFile].filter((f): f is string => !!f));
}

/**
 * Before any fault: every probe of every service answers 200 and (on a fresh mesh) a few requests per route
 * succeed; a reused mesh just served the previous scenario's load.
 */
async function steadyState(
  mesh: StartedMesh,
  poller: ProbePoller,
  context: RunContext,
  scenario: RunnableScenario,
  reused: boolean,
) {
  const services = Object.keys(mesh.services);
  try {
    await retryUntil(
      async () => {
        const latest = new Map<string, number>();
        for (const r of poller.records) latest.set(`${r.service}/${r.probe}`, r.status);
        return services.flatMap((s) => ["healthz", "readyz"].map((p) => `${s}/${p}=${latest.get(`${s}/${p}`)}`));
      },
      (states) => states.every((s) => s.endsWith("=200")),
      { timeoutMs: 10_000, description: "every service's /healthz and /readyz answering 200" },
    );
  } catch (error) {
    throw new AbortRun(`steady state did not hold before load: ${(error as Error).message}`);
  }
  if (reused) return;
  const probe = await runInlineLoad(
    {
      ratePerSec: 20,
      durationMs: 250 * scenario.load.routes.length,
      routes: scenario.load.routes,
      seed: context.seed ^ 0x5eed,
    },
    { baseUrl: mesh.edgeUrl, routes: context.target.routes },
  );
  const failed = probe.requests.filter((r) => r.status < 200 || r.status >= 300);
  if (failed.length > 0) {
    const sample = failed
      .slice(0, 3)
      .map((r) => `${r.route} -> ${r.status}${r.error ? ` (${r.error})` : ""} [request ${r.id}]`);
    throw new AbortRun(
      `steady state did not hold before load: ${failed.length}/${probe.requests.length} requests failed: ${sample.join("; ")}`,
    );
  }
}

/** Applies each fault at load start + atMs and reverts it after durationMs, all on the harness's clock. */
function scheduleFaults(journal: FaultJournal, faults: readonly FaultPlan[], signal?: AbortSignal) {
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

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
