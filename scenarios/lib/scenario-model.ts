import type { Expectations } from "../../assertions/expectations";

/** One route of the load mix and its share (weights are relative). */
export interface RouteWeight {
  /** The driver's route name, a key of the expectations' topology, e.g. "POST /api/checkout". */
  route: string;
  weight: number;
}

/** Open-model load: requests arrive at a constant rate whatever the responses do. */
export interface LoadPlan {
  ratePerSec: number;
  /** Load duration after the warm-up; the load runs warmupMs + durationMs in all. */
  durationMs: number;
  /** Load sent first, before durationMs starts (and part of the judged request log); no fault may start in it. */
  warmupMs: number;
  routes: RouteWeight[];
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

/** Takes a network link down (Toxiproxy). */
export interface LinkDownFault extends FaultTiming {
  kind: "link-down";
  params: Record<string, never>;
}

/** Adds latency on a network link (Toxiproxy). */
export interface LinkLatencyFault extends FaultTiming {
  kind: "link-latency";
  params: { ms: number };
}

export type FaultSpec = ErrorFault | LatencyFault | LinkDownFault | LinkLatencyFault;
export type FaultKind = FaultSpec["kind"];

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
