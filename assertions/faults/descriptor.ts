import type { z } from "zod";
import type { FaultRecord } from "../evidence";
import type { MutationOperator } from "../mutation";
import type { RunView } from "../run-view";

/**
 * Where a fault acts, which is also what its target names: a service's method or route ("payments.Charge", or the
 * whole service), a whole service ("orders"), a service's process ("payments"), a link ("orders-redis"), or the edge
 * where the load comes in.
 */
export type FaultSite = "method" | "service" | "process" | "link" | "edge";

/** What a fault kind does to the calls it hits, as far as explaining failures and expecting spans goes. */
export interface FaultEffect {
  /** Whether it fails calls where it acts (true), never (false), or only when they outwait a deadline ("may"). */
  fails: boolean | "may";
  /** Calls that end this long after the revert may still be its failures (connections in flight, restarts). */
  graceMs: number;
  /** The failing hop's server span: answered by the server itself, never reached, or either. */
  serverSpan: "present" | "absent" | "optional";
  /** Its failures may happen at any hop (an overload): no hop is expected to be the failing one. */
  shapeUnknown?: boolean;
  /** The codes a gRPC caller sees when it fails a call (an injected error: the code its params name). */
  grpcCodes?: readonly string[];
  /**
   * Its callers' connections fail while it holds: a gRPC caller then reconnects on gRPC's backoff schedule, and may
   * fail calls fast until its next attempt after the revert (the grace grows with how long it held: grace.ts).
   */
  reconnects?: boolean;
}

/** What the judge expects to see of a fault in telemetry, beside what it does to a trace. */
export interface FaultSignature {
  /** Calls fail at params.rate with its code: judged by metrics.error-rate. */
  errorRate?: boolean;
  /** Calls slow by params.ms, at the target service or on the link: judged by metrics.latency-shift. */
  latency?: boolean;
  /** The target's process ends and starts again: a new start time, counters from zero. */
  newLife?: boolean;
  /** The target drains before it stops, readiness first: judged by probes.graceful-drain. */
  drains?: boolean;
  /** The target's process is stopped and resumed: the thaw resumes all of its threads at once. */
  pauses?: boolean;
  /** The runtime gauge that must move while it holds: judged by runtime.resource-faults. */
  runtime?: "heap" | "event-loop" | "cpu";
}

/** A fault's measured effect, without the ids the journal gives it. */
export interface Measure {
  /** What the scenario declared, in words ("+150 ms on orders-inventory"). */
  declared: string;
  /** The tolerance the measurement is held to, in words. */
  tolerance: string;
  /** The figures measured (shares, ms, MiB, cores, counts). */
  measured: Record<string, number | string | null>;
  observed: boolean;
  /** From apply to the first sign of the effect (first failed or slowed request, first /proc sample showing it). */
  firstEffectMs: number | null;
  /** One line: what was measured against what. */
  detail: string;
}

/**
 * Everything the judge knows of one fault kind: its parameters (the schema is the type), where it acts, what it does
 * to a trace, how its effect is measured from harness records, and the mutation operators that model mistakes only
 * this kind exposes. The harness registers one injector per kind (harness/faults/registry.ts).
 */
export interface FaultDescriptor<K extends string = string, P extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** One line for documentation and errors. */
  readonly summary: string;
  readonly params: P;
  readonly site: FaultSite;
  readonly effect: FaultEffect;
  /** How the effect differs by the means it was injected by (an L7 proxy answers in front of the callee). */
  readonly effectVia?: { readonly l7?: Partial<FaultEffect> };
  readonly signature?: FaultSignature;
  /** The effect measured from harness records only (request log, probe timeline, /proc), never telemetry. */
  measure(view: RunView, fault: FaultRecord, params: z.infer<P>): Measure;
  readonly operators?: readonly MutationOperator[];
}

/** Declares a fault kind with its parameter type inferred from the schema. */
export function defineFault<K extends string, P extends z.ZodType>(
  descriptor: FaultDescriptor<K, P>,
): FaultDescriptor<K, P> {
  return descriptor;
}
