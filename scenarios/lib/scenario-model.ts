import type { Expectations } from "../../assertions/expectations";
import type { FaultSpec } from "../../assertions/faults";

export type { FaultKind, FaultSpec, FaultSpecOf } from "../../assertions/faults";
export { FAULT_KINDS } from "../../assertions/faults";

/** One route of the load mix and its share (weights are relative). */
export interface RouteWeight {
  /** The driver's route name, a key of the expectations' topology, e.g. "POST /api/checkout". */
  route: string;
  weight: number;
}

/** Open-model load: requests arrive at the planned rate whatever the responses do. */
export interface ScenarioLoad {
  /** Which driver sends the requests: the inline one (a worker thread) or k6. Default "inline". */
  driver?: "inline" | "k6";
  /**
   * What the rates mean: requests/s (default), or shares of the mesh's measured capacity on this machine
   * (`npm run capacity`; 0.7 is 70% of it), so a load scenario means the same on a bigger machine.
   */
  rateUnit?: "req/s" | "capacity";
  /** The arrival rate; with `stages`, the rate the first stage ramps from. */
  ratePerSec: number;
  /** Ramping arrival rate over warm-up + duration (their durations sum to warmupMs + durationMs). */
  stages?: { durationMs: number; targetRatePerSec: number }[];
  /** Relative weights of the traceparent each request carries (sampled, unsampled, none). Default: all sampled. */
  traceparent?: { sampled: number; unsampled: number; none: number };
  /** Load duration after the warm-up; the load runs warmupMs + durationMs in all. */
  durationMs: number;
  /** Load sent first, before durationMs starts (and part of the judged request log); no fault may start in it. */
  warmupMs: number;
  routes: readonly RouteWeight[];
  /**
   * With rates in capacity shares: the least number of requests the plan must hold; the last stage is held longer
   * (at most twice as long) on a machine where the rates alone give fewer.
   */
  minRequests?: number;
  /**
   * With rates in requests/s: the most of the mesh's measured capacity the load may take (0.5 is half). On a mesh
   * slower than that, the rate is lowered to it and the whole timeline (warm-up, duration, every fault's start and
   * length) slowed by the same factor, so the plan holds as many requests; at most 4 times slower (then fewer).
   */
  maxShareOfCapacity?: number;
  /** How long the driver waits for each response before recording it as unanswered (status 0). Default 10000. */
  timeoutMs?: number;
  /** k6 thresholds in k6's syntax (`{ http_req_failed: ["rate<0.01"] }`), k6 driver only: one crossed fails it. */
  thresholds?: Record<string, string[]>;
}

/** What a scenario expects: the assertion families to judge and their parameters (topology, error mapping, bounds). */
export type ScenarioExpectations = Expectations;

/** A scenario of the catalog: load, faults on the same clock, and what the run must show. */
export interface Scenario {
  /** Equals the file's base name (scenarios/<name>.ts). */
  name: string;
  description: string;
  load: ScenarioLoad;
  /** Empty for a fault-free scenario. */
  faults: FaultSpec[];
  expectations: ScenarioExpectations;
  /** What the scenario needs of the mesh: a root sampling ratio other than the run's (1). */
  mesh?: { samplingRatio?: number };
  /**
   * "alone" when its load or fault takes the machine's CPU or memory (or its timing is what it judges): with --workers
   * it runs with no other scenario. Default "shared": it runs beside others, each on its own mesh.
   */
  isolation?: "alone" | "shared";
  /** The file it was loaded from (its TypeScript source for the compiled catalog), set by the loader. */
  file?: string;
}

/** Declares a scenario with full typing; the catalog loader validates it strictly when it loads the file. */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}

/** A scenario file or name is invalid or unknown. The message names the file and key path; the CLI exits 2. */
export class ScenarioError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "ScenarioError";
  }
}
