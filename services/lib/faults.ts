import { z } from "zod";
import { GRPC_CODE_NAMES } from "./error-map";

const grpcCodeName = z.enum(Object.values(GRPC_CODE_NAMES).filter((n) => n !== "OK") as [string, ...string[]]);

/**
 * A service fault as the admin API accepts it. `target` is an HTTP route template ("POST /orders"), a gRPC method
 * ("Charge" or "meshproof.payments.v1.Payments/Charge"), or "*" for every route/method of the service.
 */
export const FaultSpecSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("error"),
    target: z.string().min(1),
    /** Fraction of matching requests that fail, 0..1. */
    rate: z.number().min(0).max(1),
    /** HTTP status to answer (HTTP services). */
    status: z.number().int().min(400).max(599).optional(),
    /** gRPC code name to answer (gRPC services), e.g. "UNAVAILABLE". */
    code: grpcCodeName.optional(),
  }),
  z.strictObject({
    kind: z.literal("latency"),
    target: z.string().min(1),
    /** Added delay in ms. */
    ms: z.number().int().min(0).max(60_000),
    /** Uniform jitter +- jitterMs around ms. Default 0. */
    jitterMs: z.number().int().min(0).max(60_000).default(0),
    /** Fraction of matching requests delayed, 0..1. Default 1. */
    rate: z.number().min(0).max(1).default(1),
  }),
]);

export type FaultSpec = z.input<typeof FaultSpecSchema>;
export type ParsedFaultSpec = z.output<typeof FaultSpecSchema>;
export type Fault = ParsedFaultSpec & { id: string };

/** What the middleware/interceptor must do for one request. */
export interface FaultDecision {
  delayMs: number;
  error?: { status?: number; code?: string; faultId: string };
}

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The active faults of one service and the seeded decisions about them. Fault n gets its own generator seeded
 * from (seed, n), so a fault's decisions do not depend on which other faults were active.
 */
export class FaultRegistry {
  private readonly faults = new Map<string, { fault: Fault; random: () => number }>();
  private nextId = 1;

  constructor(
    private readonly seed: number,
    /** Called once per applied fault (kind, target): the ground-truth counter. */
    private readonly onApplied: (kind: string, target: string) => void = () => {},
  ) {}

  add(spec: FaultSpec): Fault {
    const parsed = FaultSpecSchema.parse(spec);
    const n = this.nextId++;
    const fault: Fault = { ...parsed, id: `f${n}` };
    this.faults.set(fault.id, { fault, random: seededRandom((this.seed ^ Math.imul(n, 0x9e3779b1)) >>> 0) });
    return fault;
  }

  remove(id: string): boolean {
    return this.faults.delete(id);
  }

  clear(): number {
    const count = this.faults.size;
    this.faults.clear();
    return count;
  }

  list(): Fault[] {
    return [...this.faults.values()].map((f) => f.fault);
  }

  get size(): number {
    return this.faults.size;
  }

  /** Decides for one request to `names` (the route or method names it answers to); counts every applied fault. */
  decide(names: readonly string[]): FaultDecision {
    const decision: FaultDecision = { delayMs: 0 };
    if (this.faults.size === 0) return decision;
    for (const { fault, random } of this.faults.values()) {
      if (fault.target !== "*" && !names.includes(fault.target)) continue;
      if (fault.kind === "latency") {
        if (random() >= fault.rate) continue;
        const jitter = fault.jitterMs ? (random() * 2 - 1) * fault.jitterMs : 0;
        decision.delayMs += Math.max(0, Math.round(fault.ms + jitter));
        this.onApplied("latency", fault.target);
      } else if (!decision.error && random() < fault.rate) {
        decision.error = { status: fault.status, code: fault.code, faultId: fault.id };
        this.onApplied("error", fault.target);
      }
    }
    return decision;
  }
}
