import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { judgeRun } from "../../assertions/evaluate";
import type { RcaScore } from "../../assertions/rca";
import type { TelemetryContract } from "../../assertions/contract";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import type { Unbound } from "../../scenarios/lib/template";
import { scenarioVerdict } from "./judge";
import { AutoBackend, createBackend, type StartedStack, type TraceStoreName } from "../backends";
import { loadMeshConfig } from "../config/mesh-config";
import { revertAbandonedFaults } from "../faults/disk-journal";
import { runRootDir } from "../config/env";
import { atCapacity, capacityFor, type CapacityInUse } from "../load/capacity";
import { externalMeshTarget, needsOwnStack, replicable } from "../mesh/external-mesh";
import { MESH_SERVICES, type Impl, type MeshServiceName } from "../mesh/mesh";
import { chooseMeshLauncher } from "../mesh/mesh-runtime";
import { sampleMeshTarget, type MeshTarget } from "../mesh/target";
import type { SavedScenario } from "../report/evidence-file";
import type { ReporterMultiplexer } from "../report/multiplexer";
import type { RunTimings, ScenarioVerdict, Verdict } from "../report/verdict";
import { provisionTools } from "../tools/provision";
import { RUN_TOOL_NAMES } from "../tools/tools";
import { runScenario } from "./run-scenario";
import { schedule } from "./schedule";
import { scoreRun } from "./score-run";
import type { ScenarioRun } from "./scenario-run";

/** How the sample mesh runs when meshproof starts it (no --config). */
export interface SampleMeshOptions {
  /** auto, native or docker. */
  backend: string;
  /** Where the services run: native or docker (default: the backend's). */
  meshRuntime?: string;
  defects: string[];
  impl: Partial<Record<MeshServiceName, Impl>>;
  contracts: Partial<Record<MeshServiceName, TelemetryContract>>;
  serviceEnv: Partial<Record<MeshServiceName, Record<string, string>>>;
  /** Where the services send spans and the judge reads them (default jaeger). */
  traceStore?: TraceStoreName;
}

export interface CatalogOptions {
  /** The scenarios in the order they are reported (one worker runs them in it). */
  scenarios: readonly Scenario[];
  /** Scenarios at once, each on its own mesh; "auto": what the machine takes (default 1). */
  workers?: number | "auto";
  /** Templates that do not bind to the mesh: reported as not applicable, with why. */
  unbound?: readonly Unbound[];
  seed: number;
  /** A mesh meshproof did not start, by its config file; else the sample mesh. */
  configFile?: string;
  /** The config is the running compose deployment's (--attach compose). */
  attached?: boolean;
  sample: SampleMeshOptions;
  /** Measure the mesh's capacity again even when one is stored. */
  remeasureCapacity?: boolean;
  reportDir: string;
  reporter: ReporterMultiplexer;
  signal: AbortSignal;
  /** The command line as given (the verdict records the command that reproduces the run). */
  argv: readonly string[];
}

/** The mesh a run judges and what it took to get it; close() stops what was started for it. */
interface OpenedTarget {
  target: MeshTarget;
  stack?: StartedStack;
  /** Why this backend: what `auto` chose and why, or the one asked for. */
  backendReason?: string;
  /** Tool provisioning and backend start (ms), apart from the scenarios' time. */
  setup: { toolsMs: number; backendMs: number };
  meshRuntime?: string;
  capacityKey: string;
  /** How many scenarios may run at once: one for a mesh there is one of (a mesh meshproof did not start). */
  workers: Workers;
  close(): Promise<void>;
}

/** How many scenarios run at once and why; `auto` when the machine chose (and the capacity may lower it). */
interface Workers {
  count: number;
  reason: string;
  auto?: boolean;
}

/** The catalog's run: every scenario on the mesh, reported as it goes; resolves with the run's verdict. */
export async function runCatalog(options: CatalogOptions): Promise<Verdict> {
  const { reporter, signal, seed } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  fs.mkdirSync(options.reportDir, { recursive: true });
  await reporter.onRunBegin({ scenarios: options.scenarios.map((s) => s.name), reportDir: options.reportDir });
  // Before any mesh is opened: a link a killed run left down would fail this run's steady state.
  for (const line of await revertAbandonedFaults()) reporter.onLog(line);
  let opened: OpenedTarget;
  try {
    opened = await openTarget(options);
  } catch (error) {
    if (!signal.aborted) throw error;
    // Interrupted before the mesh was up: a verdict all the same, every scenario aborted, never passed.
    const runs = options.scenarios.map((s) => abortedRun(s, interruptedReason(signal)));
    const time = {
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      timings: { toolsMs: 0, backendMs: 0, capacityMs: 0, scenariosMs: 0 },
    };
    const verdict = runVerdict(options, undefined, time, runs, { workers: 0, rca: scoreRun([], []) });
    await reporter.onRunEnd({ verdict, saved: [], reportDir: options.reportDir });
    return verdict;
  }
  try {
    const capacityStarted = performance.now();
    const measured = options.scenarios.some(needsCapacity)
      ? await capacityOf(opened, options, capacityFloor(options.scenarios)).catch((error: Error) => {
          // A mesh whose capacity cannot be measured still runs every scenario that does not need it.
          if (signal.aborted) throw error;
          reporter.onLog(`capacity not measured: ${error.message}`);
          return error;
        })
      : undefined;
    const capacity = measured instanceof Error ? undefined : measured;
    const capacityMs = Math.round(performance.now() - capacityStarted);
    const workers = capacityWorkers(opened.workers, options.scenarios, capacity?.ratePerSec);
    if (workers.count > 1 || options.workers !== undefined)
      reporter.onLog(`workers ${workers.count} (${workers.reason})`);
    const scenariosStarted = performance.now();
    const total = options.scenarios.length;
    const runOne = async (index: number): Promise<ScenarioRun> => {
      const planned = options.scenarios[index]!;
      reporter.onScenarioBegin({ name: planned.name, index, total });
      if (planned.load.rateUnit === "capacity" && measured instanceof Error)
        return abortedRun(
          planned,
          `its load is a share of the mesh's capacity, which could not be measured: ${measured.message}`,
        );
      const scaled = capacity ? atCapacity(planned, capacity.ratePerSec, capacity.p99BoundMs) : planned;
      return runScenario(scaled, {
        target: opened.target,
        seed,
        signal,
        reporter,
        evaluate: judgeRun,
        ...(planned.load.rateUnit === "capacity" && capacity ? { capacityPerSec: capacity.ratePerSec } : {}),
      });
    };
    const ran = await schedule(
      options.scenarios.map((s) => ({ alone: s.isolation === "alone" })),
      workers.count,
      runOne,
      (run, index) => reporter.onScenarioEnd({ run, index, total }),
      signal,
    );
    // An interrupted run reports every scenario it kept from running as aborted: never a run of fewer that passed.
    const runs = signal.aborted
      ? options.scenarios.map(
          (s) => ran.find((r) => r.verdict.name === s.name) ?? abortedRun(s, interruptedReason(signal)),
        )
      : ran;
    for (const u of options.unbound ?? []) runs.push(unboundRun(u));
    const saved = savedScenarios(runs);
    const time = {
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      timings: { ...opened.setup, capacityMs, scenariosMs: Math.round(performance.now() - scenariosStarted) },
    };
    const verdict = runVerdict(options, opened, time, runs, {
      workers: workers.count,
      // A floor is what the run checked, not the mesh's capacity.
      capacity: capacity?.floor ? undefined : capacity,
      rca: scoreRun(
        runs.map((r) => r.verdict),
        saved,
      ),
    });
    await reporter.onRunEnd({ verdict, saved, reportDir: options.reportDir });
    return verdict;
  } finally {
    await opened.close();
  }
}

/** Whether a scenario's load depends on the mesh's capacity: shares of it, or bounded by one. */
function needsCapacity(s: Scenario): boolean {
  return s.load.rateUnit === "capacity" || s.load.maxShareOfCapacity !== undefined;
}

/** Measures (or reads the stored) capacity of the mesh and nothing else: `npm run capacity`. */
export async function measureCapacityOnly(options: CatalogOptions): Promise<CapacityInUse> {
  const opened = await openTarget(options);
  try {
    return await capacityOf(opened, { ...options, remeasureCapacity: true });
  } finally {
    await opened.close();
  }
}

/**
 * The least capacity that leaves every scenario as written, when none needs more than that (no load in capacity
 * shares): then a mesh that sustains it needs no full measurement.
 */
function capacityFloor(scenarios: readonly Scenario[]): number | undefined {
  if (scenarios.some((s) => s.load.rateUnit === "capacity")) return undefined;
  return Math.max(
    ...scenarios.map((s) => (s.load.maxShareOfCapacity ? s.load.ratePerSec / s.load.maxShareOfCapacity : 0)),
  );
}

function capacityOf(opened: OpenedTarget, options: CatalogOptions, atLeast?: number): Promise<CapacityInUse> {
  return capacityFor(opened.target, opened.capacityKey, {
    remeasure: options.remeasureCapacity ?? false,
    ...(atLeast !== undefined && !options.remeasureCapacity ? { atLeast } : {}),
    log: (line) => options.reporter.onLog(line),
    signal: options.signal,
  });
}

/** The mesh to judge: an external one from its config, or the sample mesh on a backend started for the run. */
async function openTarget(options: CatalogOptions): Promise<OpenedTarget> {
  const log = (line: string) => options.reporter.onLog(line);
  const config = options.configFile ? loadMeshConfig(options.configFile) : undefined;
  if (config && !needsOwnStack(config)) {
    // Nothing of a mesh the user started is written under it: its logs are the services' own files.
    const target = externalMeshTarget(config, options.configFile!, { runDir: path.join(runRootDir(), "external") });
    log(`judging ${target.description}`);
    const setup = { toolsMs: 0, backendMs: 0 };
    return {
      target,
      setup,
      capacityKey: `external mesh "${config.name}"`,
      workers: ONE_MESH,
      close: () => target.close(),
    };
  }
  const { sample } = options;
  let t = performance.now();
  // Everything a scenario may need (the Go payments; k6 when a scenario is driven by it) is provisioned up front.
  const k6 = options.scenarios.some((s) => s.load.driver === "k6") ? (["k6"] as const) : [];
  const zipkin = sample.traceStore === "zipkin" ? (["zipkin"] as const) : [];
  const tools = await provisionTools({ tools: [...RUN_TOOL_NAMES, ...k6, ...zipkin], log });
  const toolsMs = Math.round(performance.now() - t);
  log(`setup ${toolsMs} ms`);
  t = performance.now();
  const backend = createBackend(sample.backend);
  const stack = await backend.start({ tools, traceStore: sample.traceStore });
  const setup = { toolsMs, backendMs: Math.round(performance.now() - t) };
  const backendReason = backend instanceof AutoBackend ? backend.reason : `--backend ${sample.backend}`;
  log(`backend start ${setup.backendMs} ms (${stack.backend}, run dir ${stack.runDir})`);
  if (config) {
    const workers = replicable(config) ? machineWorkers(options.workers) : ONE_MESH;
    const target = externalMeshTarget(config, options.configFile!, {
      runDir: stack.runDir,
      stack,
      workers: workers.count,
    });
    log(`judging ${target.description}`);
    const close = async () => {
      await target.close();
      await stack.stop();
    };
    const capacityKey = `external mesh "${config.name}"`;
    return { target, stack, backendReason, setup, capacityKey, workers, close };
  }
  try {
    const choice = await chooseMeshLauncher(sample.meshRuntime, stack, {
      backendRequested: sample.backend,
      impls: MESH_SERVICES.map((s) => sample.impl[s] ?? "node"),
      tools,
      log,
    });
    log(`mesh runtime: ${choice.runtime} (${choice.reason})`);
    const { defects, impl, contracts, serviceEnv } = sample;
    const workers = machineWorkers(options.workers);
    const target = sampleMeshTarget(
      stack,
      { seed: options.seed, defects, impl, contracts, serviceEnv, launcher: choice.launcher },
      workers.count,
    );
    const close = async () => {
      await target.close();
      await stack.stop();
    };
    return {
      target,
      stack,
      backendReason,
      setup,
      meshRuntime: choice.runtime,
      capacityKey: target.description,
      workers,
      close,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** A mesh meshproof cannot launch twice (it did not start it, or fixed addresses): one scenario at a time. */
const ONE_MESH: Workers = { count: 1, reason: "one mesh: meshproof cannot start this mesh once per worker" };
/** Memory allowed per mesh and its scenario's records: an allowance, not a measurement (four services, heap faults). */
const MESH_MEMORY_BYTES = 1.5 * 1024 ** 3;
/** The scenarios sharing the machine take at most this share of the mesh's capacity together. */
const SHARED_CAPACITY = 0.5;

/**
 * Workers the machine takes: one per core (four on two cores made probes and added latency miss their bounds in
 * scenarios that run shared), as many meshes as free memory holds.
 */
function machineWorkers(asked: number | "auto" | undefined): Workers {
  if (asked === undefined) return { count: 1, reason: "one at a time" };
  if (asked !== "auto") return { count: asked, reason: `--workers ${asked}` };
  const cores = os.availableParallelism();
  const memory = Math.floor(os.freemem() / MESH_MEMORY_BYTES);
  const count = Math.max(1, Math.min(cores, memory));
  return { count, reason: `auto: ${cores} cores, free memory for ${memory} meshes`, auto: true };
}

/**
 * With auto, at most as many shared scenarios at once as the mesh's capacity carries: their summed peak rates within
 * SHARED_CAPACITY of it (the capacity is one mesh's on this machine, and the meshes share its cores).
 */
function capacityWorkers(
  machine: Workers,
  scenarios: readonly Scenario[],
  capacityPerSec: number | undefined,
): Workers {
  const rates = scenarios.filter((s) => s.isolation !== "alone").map(peakRate);
  // A count asked for is taken as asked (a mesh whose capacity is not the machine's: HotROD's is a mutex).
  if (!machine.auto || capacityPerSec === undefined || rates.length === 0) return machine;
  const peak = Math.max(...rates.map((r) => (r.share ? r.rate * capacityPerSec : r.rate)));
  const carried = Math.max(1, Math.floor((SHARED_CAPACITY * capacityPerSec) / peak));
  return carried < machine.count
    ? { count: carried, reason: `${machine.reason}; the capacity ${capacityPerSec} req/s carries ${carried}` }
    : machine;
}

/** A scenario's highest planned rate: requests/s, or a share of capacity. */
function peakRate(s: Scenario): { rate: number; share: boolean } {
  const rate = Math.max(s.load.ratePerSec, ...(s.load.stages ?? []).map((st) => st.targetRatePerSec));
  return { rate, share: s.load.rateUnit === "capacity" };
}

/** A template the mesh does not fit, as a not-applicable scenario named after it. */
function unboundRun(u: Unbound): ScenarioRun {
  return unrun(
    { name: u.template, file: u.file },
    "not-applicable",
    `the template does not bind to this mesh: ${u.reason}`,
  );
}

/** Why a scenario did not run when the signal aborted the run: the signal's name. */
function interruptedReason(signal: AbortSignal): string {
  const name = signalName(signal);
  return `not run: the run was interrupted${name ? ` by ${name}` : ""}`;
}

function signalName(signal: AbortSignal): string | undefined {
  const reason = signal.reason as { signalName?: unknown } | undefined;
  return typeof reason?.signalName === "string" ? reason.signalName : undefined;
}

/** A scenario that could not run at all, as an aborted one. */
function abortedRun(scenario: Scenario, reason: string): ScenarioRun {
  return unrun(scenario, "aborted", reason);
}

function unrun(
  scenario: { name: string; file?: string | undefined },
  status: "aborted" | "not-applicable",
  reason: string,
): ScenarioRun {
  const verdict = scenarioVerdict(scenario, { status, reason }, { durationMs: 0, phases: {}, measurements: {} });
  return { verdict, expectations: { families: [], topology: {} }, logFiles: [] };
}

/** Each judged scenario as saved in evidence.json.gz: its name, expectations and evidence. */
function savedScenarios(runs: readonly ScenarioRun[]): SavedScenario[] {
  return runs.flatMap((r) =>
    r.evidence ? [{ name: r.verdict.name, expectations: r.expectations, evidence: r.evidence }] : [],
  );
}

/** The one place the run's verdict is built. */
function runVerdict(
  options: CatalogOptions,
  opened: OpenedTarget | undefined,
  time: { startedAt: Date; durationMs: number; timings: RunTimings },
  runs: readonly ScenarioRun[],
  extra: { workers: number; capacity?: CapacityInUse; rca: RcaScore },
): Verdict {
  const { sample, seed } = options;
  const scenarios: ScenarioVerdict[] = runs.map((r) => r.verdict);
  const verdict: Verdict = {
    version: 2,
    run: {
      id: `${time.startedAt.toISOString().replace(/[-:.]/g, "")}-${crypto.randomBytes(3).toString("hex")}`,
      startedAt: time.startedAt.toISOString(),
      durationMs: time.durationMs,
      timings: time.timings,
      backend: opened
        ? (opened.stack?.backend ?? (options.attached ? "compose" : "external"))
        : options.configFile
          ? "external"
          : options.sample.backend,
      ...(opened?.backendReason ? { backendReason: opened.backendReason } : {}),
      workers: extra.workers,
      ...(opened?.stack ? { traceStore: opened.stack.traceStore } : {}),
      tools: opened?.stack?.tools ?? {},
      seed,
      mesh: {
        description: opened?.target.description ?? "not started: the run was interrupted first",
        impl: options.configFile ? {} : Object.fromEntries(MESH_SERVICES.map((s) => [s, sample.impl[s] ?? "node"])),
      },
      defects: sample.defects,
      ...(extra.capacity ? { capacity: extra.capacity } : {}),
      command: reproduceCommand(
        options.argv,
        { backend: opened?.stack?.backend, "mesh-runtime": opened?.meshRuntime },
        seed,
      ),
    },
    scenarios,
    rca: extra.rca,
  };
  // The signal that stopped the run, recorded: a run it cut short is never read as a whole one.
  const interrupted = options.signal.aborted ? (signalName(options.signal) ?? "abort") : undefined;
  return interrupted ? { ...verdict, run: { ...verdict.run, interrupted } } : verdict;
}

/**
 * The command that runs the same scenarios the same way: the arguments given, with the seed, the backend and the mesh
 * runtime that ran pinned (choices made by default made explicit).
 */
function reproduceCommand(
  argv: readonly string[],
  chosen: Record<"backend" | "mesh-runtime", string | undefined>,
  seed: number,
): string {
  const pinned = ["--seed", ...Object.keys(chosen).map((k) => `--${k}`)];
  const given = argv.filter(
    (a, i, all) =>
      !pinned.includes(all[i - 1] ?? "") && !pinned.includes(a) && !pinned.some((p) => a.startsWith(`${p}=`)),
  );
  const args = [
    ...given,
    "--seed",
    String(seed),
    ...Object.entries(chosen).flatMap(([k, v]) => (v ? [`--${k}`, v] : [])),
  ];
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  return `npm run scenario -- ${args.map(quote).join(" ")}`;
}
