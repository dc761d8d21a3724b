import type { FaultRecord } from "../../assertions/evidence";
import type { FaultKind, FaultSpecOf } from "../../assertions/faults";
import type { StartedMesh } from "../mesh/started-mesh";

/** A fault in place: when it began to act, what the journal records of it, and how to undo it. */
export interface Injection {
  /** When the fault began to act (the journal's appliedAtMs). */
  appliedAtMs: number;
  /** What the kind records beside the times (a kill's last counters). */
  details?: Partial<FaultRecord>;
  /** Undoes the fault; resolves with what was learnt while undoing it (a restart's final counters). */
  revert(): Promise<Partial<FaultRecord> | void>;
}

/** How the harness applies one fault kind to a running mesh. */
export interface FaultInjector<K extends FaultKind> {
  /** Throws ConfigError when this mesh cannot take the fault (its target, the means it needs); checked before load. */
  validate(fault: FaultSpecOf<K>, mesh: StartedMesh): void;
  /** Applies it; `id` is its journal id (names what the fault leaves behind, e.g. Toxiproxy toxics). */
  apply(fault: FaultSpecOf<K>, mesh: StartedMesh, id: string): Promise<Injection>;
}
