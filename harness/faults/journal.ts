import type { FaultRecord } from "../../assertions/evidence";
import type { FaultSpec } from "../../assertions/faults";
import type { StartedMesh } from "../mesh/started-mesh";
import type { FaultInjector, Injection } from "./injector";
import { injectorFor, INJECTORS } from "./registry";
import { ConfigError } from "../errors";
import { lifeline } from "../lifeline/lifeline";
import { DiskJournal } from "./disk-journal";
import type { MeshTopology } from "../../scenarios/lib/topology";

/** An applied fault: its journal record as it stands now, and its revert (idempotent, never throws). */
export interface ActiveFault {
  readonly id: string;
  readonly record: FaultRecord;
  revert(): Promise<void>;
}

let disk: DiskJournal | undefined;

/** This process's journal on disk, made at its first fault and handed to the lifeline (which reverts what it holds open). */
function diskJournal(): DiskJournal {
  disk ??= DiskJournal.create((file) => lifeline.watchJournal(file));
  return disk;
}

/**
 * The fault journal: every fault applied and reverted, with times on the harness's clock; ground truth for the
 * judge. A record is never changed in place: each change makes a new one. revertAll() runs every outstanding revert
 * even when some fail. Each fault is also written to the journal on disk (disk-journal.ts) before it is applied, with
 * what undoes it without the harness, and marked reverted by the harness after its revert: a harness that dies in
 * between leaves it to its lifeline, or to the next run.
 */
export class FaultJournal {
  private readonly entries = new Map<string, FaultRecord>();
  private readonly reverts = new Map<string, Promise<void>>();
  private readonly active: ActiveFault[] = [];
  private count = 0;

  private readonly chosen = new Map<FaultSpec, FaultInjector<FaultSpec["kind"]>>();

  constructor(
    private readonly mesh: StartedMesh,
    private readonly topology: MeshTopology,
  ) {}

  /** The records in the order the faults were applied. */
  get records(): FaultRecord[] {
    return [...this.entries.values()];
  }

  /** Picks the fault's injector; throws ConfigError when the mesh cannot take the fault. */
  validate(fault: FaultSpec): void {
    this.injectorOf(fault).validate(fault, this.mesh);
  }

  async apply(fault: FaultSpec): Promise<ActiveFault> {
    const id = `fault-${++this.count}`;
    const injector = this.injectorOf(fault);
    const journal = diskJournal();
    // Written first: a harness killed while applying leaves an entry its lifeline reverts (reverts are idempotent).
    const key = journal.applying(
      { id, kind: fault.kind, target: fault.target },
      injector.leftover(fault, this.mesh, id),
    );
    const injection = await injector.apply(fault, this.mesh, id);
    journal.applied(key, injection.leftover);
    const { kind, target, params } = fault;
    const { via } = injector;
    const inPlaceAtMs = Date.now();
    this.write({
      id,
      kind,
      target,
      via,
      params,
      appliedAtMs: injection.appliedAtMs,
      inPlaceAtMs,
      ...injection.details,
    });
    const entries = this.entries;
    const active: ActiveFault = {
      id,
      get record() {
        return entries.get(id)!;
      },
      revert: () => this.revert(id, injection, key),
    };
    this.active.push(active);
    return active;
  }

  /** Reverts every fault not yet reverted; a failing revert is recorded and does not stop the others. */
  async revertAll(): Promise<void> {
    await Promise.all(this.active.map((a) => a.revert()));
  }

  private revert(id: string, injection: Injection, key: string): Promise<void> {
    let reverting = this.reverts.get(id);
    if (!reverting) {
      this.update(id, { revertStartedAtMs: Date.now() });
      reverting = injection.revert().then(
        (learnt) => {
          diskJournal().reverted(key, "harness");
          this.update(id, { ...learnt, revertedAtMs: Date.now() });
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          // Left open: the lifeline tries again when the harness ends.
          diskJournal().revertFailed(key, "harness", message);
          this.update(id, { revertError: message });
        },
      );
      this.reverts.set(id, reverting);
    }
    return reverting;
  }

  private injectorOf(fault: FaultSpec): FaultInjector<FaultSpec["kind"]> {
    let injector = this.chosen.get(fault);
    if (!injector) {
      const found = injectorFor(fault, this.topology);
      if ("whyNot" in found) {
        // A target the mesh does not have is the clearer message: the first injector's own check says so.
        (INJECTORS[fault.kind][0] as FaultInjector<FaultSpec["kind"]>).validate(fault, this.mesh);
        throw new ConfigError(`the mesh cannot take ${found.whyNot}`);
      }
      injector = found.injector as FaultInjector<FaultSpec["kind"]>;
      this.chosen.set(fault, injector);
    }
    return injector;
  }

  private update(id: string, change: Partial<FaultRecord>): void {
    this.write({ ...this.entries.get(id)!, ...change });
  }

  private write(record: FaultRecord): void {
    this.entries.set(record.id, Object.freeze(record));
  }
}
