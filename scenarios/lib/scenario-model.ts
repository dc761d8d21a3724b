import type { Expectations } from "../../assertions/expectations";

/** One route of the load mix and its share (weights are relative). */
export interface RouteWeight {
  /** The driver's route name, a key of the expectations' topology, e.g. "POST /api/checkout". */
  route: string;
  weight: number;
}

/** Open-model load: requests arrive at the planned rate whatever the responses do. */
export interface LoadPlan {
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
   * on a machine where the rates alone give fewer.
   */
  minRequests?: number;
  /** How long the driver waits for each response before recording it as unanswered (status 0). Default 10000. */
  timeoutMs?: number;
  /** k6 thresholds in k6's syntax (`{ http_req_failed: ["rate<0.01"] }`), k6 driver only: one crossed fails it. */
  thresholds?: Record<string, string[]>;
}

interface FaultTiming {
  /**
   * Service faults: "<service>" or "<service>.<Method>" ("payments.Charge"); network faults: a link name
   * ("orders-redis").
   */
  target: string;
  /** Offset from load start (warm-up included), >= warmupMs. */
  atMs: number;
  /** How long the fault holds before it is reverted. */
  durationMs: number;
}

/** Fails a share of calls with a gRPC code or an HTTP status (exactly one of the two). */
export interface ErrorFault extends FaultTiming {
  kind: "error";
  params: { rate: number; grpcCode?: string; httpStatus?: number };
}

/** Adds latency to a service's calls. */
export interface LatencyFault extends FaultTiming {
  kind: "latency";
  params: { ms: number; jitterMs?: number };
}

/** Takes a network link down (Toxiproxy): connections closed, new ones refused. */
export interface LinkDownFault extends FaultTiming {
  kind: "link-down";
  params: Record<string, never>;
}

/** Adds latency on a network link (Toxiproxy). */
export interface LinkLatencyFault extends FaultTiming {
  kind: "link-latency";
  params: { ms: number };
}

/** Stops all data on a link; connections close after timeoutMs (0: only when the fault ends) (Toxiproxy timeout). */
export interface LinkTimeoutFault extends FaultTiming {
  kind: "link-timeout";
  params: { timeoutMs: number };
}

/** Resets connections on a link (TCP RST) after timeoutMs of data (Toxiproxy reset_peer). */
export interface LinkResetFault extends FaultTiming {
  kind: "link-reset";
  params: { timeoutMs: number };
}

/** Limits a link's bandwidth to kbPerSec in both directions (Toxiproxy bandwidth). */
export interface LinkBandwidthFault extends FaultTiming {
  kind: "link-bandwidth";
  params: { kbPerSec: number };
}

/** Kills a service (SIGKILL / docker kill) and starts it again after durationMs. Target: a service. */
export interface KillFault extends FaultTiming {
  kind: "kill";
  params: Record<string, never>;
}

/** Freezes a service (SIGSTOP / docker pause) for durationMs. Target: a service. */
export interface FreezeFault extends FaultTiming {
  kind: "freeze";
  params: Record<string, never>;
}

/** Restarts a service gracefully (SIGTERM: it drains, then starts again). Target: a service. */
export interface RestartFault extends FaultTiming {
  kind: "restart";
  params: Record<string, never>;
}

/** Holds `mb` MB of the service's heap for durationMs (admin API). Target: a service. */
export interface MemoryFault extends FaultTiming {
  kind: "memory";
  params: { mb: number };
}

/** Blocks the service's event loop for blockMs every everyMs (admin API; Node only). Target: a service. */
export interface StallFault extends FaultTiming {
  kind: "stall";
  params: { blockMs: number; everyMs: number };
}

/** Burns `fraction` of a core in the service's process (admin API). Target: a service. */
export interface CpuFault extends FaultTiming {
  kind: "cpu";
  params: { fraction: number };
}

/**
 * The load beyond the mesh's capacity (declared, not injected): failures in its window (and a grace after it) are
 * its, failing anywhere along the route. Target: the edge service.
 */
export interface OverloadFault extends FaultTiming {
  kind: "overload";
  params: Record<string, never>;
}

export type FaultSpec =
  | ErrorFault
  | LatencyFault
  | LinkDownFault
  | LinkLatencyFault
  | LinkTimeoutFault
  | LinkResetFault
  | LinkBandwidthFault
  | KillFault
  | FreezeFault
  | RestartFault
  | MemoryFault
  | StallFault
  | CpuFault
  | OverloadFault;
export type FaultKind = FaultSpec["kind"];

/** Every fault kind (a Record, so that a kind added to FaultSpec and missing here does not compile). */
const KINDS: Record<FaultKind, true> = {
  error: true,
  latency: true,
  "link-down": true,
  "link-latency": true,
  "link-timeout": true,
  "link-reset": true,
  "link-bandwidth": true,
  kill: true,
  freeze: true,
  restart: true,
  memory: true,
  stall: true,
  cpu: true,
  overload: true,
};
export const FAULT_KINDS = Object.keys(KINDS) as FaultKind[];

/** What a scenario expects: the assertion families to judge and their parameters (topology, error mapping, bounds). */
export type ScenarioExpectations = Expectations;

/** A scenario of the catalog: load, faults on the same clock, and what the run must show. */
export interface Scenario {
  /** Equals the file's base name (scenarios/<name>.ts). */
  name: string;
  description: string;
  load: LoadPlan;
  /** Empty for a fault-free scenario. */
  faults: FaultSpec[];
  expectations: ScenarioExpectations;
  /** What the scenario needs of the mesh: a root sampling ratio other than the run's (1). */
  mesh?: { samplingRatio?: number };
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
