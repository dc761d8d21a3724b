import type { FaultRecord } from "../../assertions/evidence";
import { ConfigError } from "../errors";

/** A fault as a scenario declares it (times relative to the start of load). */
export interface FaultPlan {
  kind: string;
  /** "service.method-or-route" for service faults ("payments.Charge"), a link name for network faults ("orders-redis"). */
  target: string;
  atMs: number;
  durationMs: number;
  params: Record<string, unknown>;
}

/** An applied fault. revert() is idempotent and records its outcome in the journal record. */
export interface ActiveFault {
  readonly record: FaultRecord;
  revert(): Promise<void>;
}

/** Applies one family of faults (service faults through the admin API, network faults through Toxiproxy). */
export interface FaultInjector {
  readonly kinds: readonly string[];
  /** Throws ConfigError when the fault's target or params do not fit this injector (checked before the run). */
  validate(fault: FaultPlan): void;
  apply(fault: FaultPlan, id: string): Promise<ActiveFault>;
}

/**
 * The fault journal: every fault applied and reverted, with times, on the harness's clock. Ground truth for the
 * metric and probe assertions. revertAll() runs every outstanding revert even when some fail.
 */
export class FaultJournal {
  private readonly active: ActiveFault[] = [];
  private readonly injectors = new Map<string, FaultInjector>();
  private count = 0;

  constructor(injectors: readonly FaultInjector[]) {
    for (const injector of injectors) for (const kind of injector.kinds) this.injectors.set(kind, injector);
  }

  get records(): FaultRecord[] {
    return this.active.map((a) => a.record);
  }

  validate(fault: FaultPlan): void {
    this.injectorFor(fault).validate(fault);
  }

  async apply(fault: FaultPlan): Promise<ActiveFault> {
    const active = await this.injectorFor(fault).apply(fault, `fault-${++this.count}`);
    this.active.push(active);
    return active;
  }

  /** Reverts every fault not yet reverted; a failing revert is recorded and does not stop the others. */
  async revertAll(): Promise<void> {
    await Promise.all(this.active.map((a) => a.revert()));
  }

  private injectorFor(fault: FaultPlan): FaultInjector {
    const injector = this.injectors.get(fault.kind);
    if (!injector) {
      throw new ConfigError(
        `fault kind "${fault.kind}" is not known; known kinds: ${[...this.injectors.keys()].join(", ")}`,
      );
    }
    return injector;
  }
}

/** Builds an ActiveFault whose revert runs once, records reverted-at or the error, and never throws. */
export function activeFault(record: FaultRecord, undo: () => Promise<void>): ActiveFault {
  let reverting: Promise<void> | undefined;
  return {
    record,
    revert() {
      reverting ??= (async () => {
        record.revertStartedAtMs = Date.now();
        await undo();
      })().then(
        () => {
          record.revertedAtMs = Date.now();
        },
        (error: unknown) => {
          record.revertError = error instanceof Error ? error.message : String(error);
        },
      );
      return reverting;
    },
  };
}
