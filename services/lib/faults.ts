import { z } from "zod";
import { GRPC_CODE_NAMES } from "./error-map";
import { startResourceEffect, type ResourceEffect, type ResourceFaultSpec } from "./resource-faults";

const grpcCodeName = z.enum(Object.values(GRPC_CODE_NAMES).filter((n) => n !== "OK") as [string, ...string[]]);

/**
 * A service fault as the admin API accepts it. Request faults (error, latency) have a `target`: an HTTP route
 * template ("POST /orders"), a gRPC method ("Charge" or "meshproof.payments.v1.Payments/Charge"), or "*" for every
 * route/method of the service. Resource faults (memory, stall, cpu; effects in resource-faults.ts) act on the whole
 * process and take no target.
 */
export const AdminFaultSchema = z.discriminatedUnion("kind", [
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
  z.strictObject({
    kind: z.literal("memory"),
    /** MB (MiB) held on the runtime's heap until reverted. */
    mb: z.number().int().min(1).max(4096),
  }),
  z
    .strictObject({
      kind: z.literal("stall"),
      /** Length of each synchronous block of the event loop, ms. */
      blockMs: z.number().int().min(1).max(5_000),
      /** One block starts every everyMs (> blockMs). */
      everyMs: z.number().int().min(2).max(60_000),
    })
    .superRefine((spec, ctx) => {
      if (spec.everyMs <= spec.blockMs)
        ctx.addIssue({
          code: "custom",
          path: ["everyMs"],
          message: `must be > blockMs (got everyMs ${spec.everyMs}, blockMs ${spec.blockMs})`,
        });
    }),
  z.strictObject({
    kind: z.literal("cpu"),
    /** Fraction of one core burnt, 0.05..1. */
    fraction: z.number().min(0.05).max(1),
  }),
]);

export type AdminFault = z.input<typeof AdminFaultSchema>;
export type ParsedAdminFault = z.output<typeof AdminFaultSchema>;
export type Fault = ParsedAdminFault & { id: string };

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

export interface FaultRegistryOptions {
  /** The `target` label of resource faults on meshproof_faults_injected_total. Default "*". */
  serviceName?: string;
  /** Makes a resource fault's effect. Default: startResourceEffect (resource-faults.ts). */
  startEffect?: (spec: ResourceFaultSpec) => ResourceEffect;
}

interface Entry {
  fault: Fault;
  random: () => number;
  effect?: ResourceEffect;
}

/**
 * The active faults of one service and the seeded decisions about them. Fault n gets its own generator seeded
 * from (seed, n), so a fault's decisions do not depend on which other faults were active. Resource faults take an
 * id from the same sequence and make no decisions: their effect runs from add until remove/clear.
 */
export class FaultRegistry {
  private readonly faults = new Map<string, Entry>();
  private nextId = 1;
  private readonly serviceName: string;
  private readonly startEffect: (spec: ResourceFaultSpec) => ResourceEffect;

  constructor(
    private readonly seed: number,
    /** Called once per applied fault (kind, target): the ground-truth counter. */
    private readonly onApplied: (kind: string, target: string) => void = () => {},
    options: FaultRegistryOptions = {},
  ) {
    this.serviceName = options.serviceName ?? "*";
    this.startEffect = options.startEffect ?? startResourceEffect;
  }

  /**
   * Validates and activates a fault. A resource fault's effect starts here (and is counted once, target = the
   * service name); its memory may still be filling when add returns: apply() waits for it. Throws ZodError for
   * an invalid spec, ResourceFaultError for one this process cannot apply.
   */
  add(spec: AdminFault): Fault {
    const parsed = AdminFaultSchema.parse(spec);
    const effect = isResourceSpec(parsed) ? this.startEffect(parsed) : undefined;
    const n = this.nextId++;
    const fault: Fault = { ...parsed, id: `f${n}` };
    this.faults.set(fault.id, {
      fault,
      random: seededRandom((this.seed ^ Math.imul(n, 0x9e3779b1)) >>> 0),
      effect,
    });
    if (effect) this.onApplied(parsed.kind, this.serviceName);
    return fault;
  }

  /** add, then waits until a resource fault's effect is fully in place (what the admin API answers after). */
  async apply(spec: AdminFault): Promise<Fault> {
    const fault = this.add(spec);
    const effect = this.faults.get(fault.id)?.effect;
    try {
      await effect?.ready;
    } catch (error) {
      this.remove(fault.id);
      throw error;
    }
    return fault;
  }

  /** Removes a fault; a resource fault's effect is undone before this returns. */
  remove(id: string): boolean {
    const entry = this.faults.get(id);
    if (!entry) return false;
    this.faults.delete(id);
    entry.effect?.stop();
    return true;
  }

  clear(): number {
    const count = this.faults.size;
    for (const id of [...this.faults.keys()]) this.remove(id);
    return count;
  }

  /** Removes the resource faults only (shutdown: the process stops burning and blocking before it drains). */
  revertResources(): number {
    const ids = [...this.faults.values()].filter((e) => e.effect).map((e) => e.fault.id);
    for (const id of ids) this.remove(id);
    return ids.length;
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
      if (fault.kind !== "error" && fault.kind !== "latency") continue;
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

function isResourceSpec(spec: ParsedAdminFault): spec is Extract<ParsedAdminFault, ResourceFaultSpec> {
  return spec.kind === "memory" || spec.kind === "stall" || spec.kind === "cpu";
}
