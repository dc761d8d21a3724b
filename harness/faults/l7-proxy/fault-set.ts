import { seededRandom } from "../../util/rng";
import { ConflictError, faultSchemaFor, type Fault, type FaultView, type Protocol } from "./api-schema";
import { compileMatch, type CallKey } from "./call-match";

/** What to do with one call: wait delayMs, then answer the error fault's status/code or forward it. */
export interface Decision {
  delayMs: number;
  error?: Extract<Fault, { kind: "error" }>;
}

interface Entry {
  fault: Fault;
  matches: (call: CallKey) => boolean;
  random: () => number;
  matched: number;
  injected: number;
}

/**
 * The faults of one proxy and their seeded decisions. Each fault draws from its own mulberry32 stream seeded by
 * its seed, once per matching call (twice when it delays with jitter), so its decisions depend only on its seed and
 * the order of the calls it matches, not on the other faults.
 */
export class FaultSet {
  private readonly entries = new Map<string, Entry>();
  private readonly schema;

  constructor(readonly protocol: Protocol) {
    this.schema = faultSchemaFor(protocol);
  }

  /** Validates and activates a fault; throws ZodError for a bad spec, ConflictError for a taken id. */
  add(spec: unknown): Fault {
    const fault = this.schema.parse(spec);
    if (this.entries.has(fault.id)) throw new ConflictError(`fault "${fault.id}" already exists`);
    const matches = compileMatch(this.protocol, fault.match).matches;
    this.entries.set(fault.id, { fault, matches, random: seededRandom(fault.seed), matched: 0, injected: 0 });
    return fault;
  }

  /** Removes a fault; false when there was none with that id. */
  remove(id: string): boolean {
    return this.entries.delete(id);
  }

  /** Every fault with its counters, in the order added. */
  list(): FaultView[] {
    return [...this.entries.values()].map((e) => ({ ...e.fault, matched: e.matched, injected: e.injected }));
  }

  /**
   * Decides for one call and counts it. Latencies of every firing latency fault add up; of several firing error
   * faults the first added wins and only it counts as injected.
   */
  decide(call: CallKey): Decision {
    const decision: Decision = { delayMs: 0 };
    for (const entry of this.entries.values()) {
      if (!entry.matches(call)) continue;
      entry.matched++;
      const { fault, random } = entry;
      if (random() >= fault.rate) continue;
      if (fault.kind === "latency") {
        const jitterMs = fault.jitterMs > 0 ? (random() * 2 - 1) * fault.jitterMs : 0;
        decision.delayMs += Math.max(0, fault.ms + jitterMs);
        entry.injected++;
      } else if (!decision.error) {
        decision.error = fault;
        entry.injected++;
      }
    }
    return decision;
  }
}
