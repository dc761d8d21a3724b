import type { AssertionFamily, Evidence } from "./evidence";
import type { Expectations } from "./expectations";

/** A seeded PRNG (load mix, mutants): the same seed gives the same sequence. harness/util/rng.ts builds one. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/**
 * A mutation operator over recorded evidence: it models one way telemetry (or the record of what happened) can be
 * wrong, and names the assertion that must notice. A mutant shares every part of the evidence it does not change
 * (copy on write), so building and judging one is cheap; an operator never changes the evidence it is given (the
 * engine's TraceCache relies on that).
 */
export interface MutationOperator {
  name: string;
  family: AssertionFamily;
  /** The mistake the mutant models. */
  models: string;
  /** The assertion id that must fail on the mutant. */
  killedBy: string;
  /**
   * How much of the evidence a mutant changes. "wholesale" (the default): every sample, span or answer of a kind, or
   * one whole series or record. "margin": a minority (1-10%, at least one) of one kind's observations, each moved by
   * one unit of scale (x1000, one status code to another): what a judge that only sees gross errors lets through.
   */
  scope?: OperatorScope;
  /**
   * One mutant of a passing scenario's evidence, or undefined where the operator has nothing to mutate. The
   * scenario's expectations say what its judge does not judge (probes an overload may fail), which a mutant leaves.
   */
  apply(evidence: Evidence, rng: Rng, expectations?: Expectations): Mutant | undefined;
}

/** How much of the evidence an operator's mutants change (MutationOperator.scope). */
export type OperatorScope = "wholesale" | "margin";

/** One mutated copy of a scenario's evidence. */
export interface Mutant {
  evidence: Evidence;
  /** What exactly was changed ("dropped orders client span of trace 1a2b…"). */
  change: string;
}
