import type { FaultRecord } from "../../assertions/evidence";
import type { FaultKind, FaultSpecOf } from "../../assertions/faults";
import type { StartedMesh } from "../mesh/started-mesh";
import type { MeshTopology } from "../../scenarios/lib/topology";
import type { Leftover } from "./disk-journal";

/** A fault in place: when it began to act, what the journal records of it, and how to undo it. */
export interface Injection {
  /** When the fault began to act (the journal's appliedAtMs). */
  appliedAtMs: number;
  /** What the kind records beside the times (a kill's last counters, the link a fault acted on). */
  details?: Partial<FaultRecord>;
  /** What undoes it without the harness, as applying it refined it (an id the means gave the fault). */
  leftover?: Leftover;
  /** Undoes the fault; resolves with what was learnt while undoing it (a restart's final counters). */
  revert(): Promise<Partial<FaultRecord> | void>;
}

/** The means a fault is injected by (recorded in the journal as `via`). */
export type FaultVia = NonNullable<FaultRecord["via"]>;

/** One way the harness applies a fault kind to a running mesh. A kind may have several, in order of preference. */
export interface FaultInjector<K extends FaultKind> {
  readonly via: FaultVia;
  /** Why a mesh of this topology cannot take the fault this way; undefined when it can. */
  whyNot(fault: FaultSpecOf<K>, mesh: MeshTopology): string | undefined;
  /** Throws ConfigError when the started mesh cannot take the fault (its target, the means it needs). */
  validate(fault: FaultSpecOf<K>, mesh: StartedMesh): void;
  /**
   * What undoes the fault without the harness (the lifeline's, or a later run's, revert), known before it is applied:
   * written to the journal on disk first. `{ none }` says why nothing outside the harness can undo it.
   */
  leftover(fault: FaultSpecOf<K>, mesh: StartedMesh, id: string): Leftover;
  /** Applies it; `id` is its journal id (names what the fault leaves behind, e.g. Toxiproxy toxics). */
  apply(fault: FaultSpecOf<K>, mesh: StartedMesh, id: string): Promise<Injection>;
}

/** whyNot for a fault that needs its target (or the service it names) among `means`. */
export function needs(
  means: keyof Omit<MeshTopology["means"], "samplingRatios">,
  what: string,
): (fault: { target: string }, mesh: MeshTopology) => string | undefined {
  return (fault, mesh) => {
    const subject = means === "links" || means === "l7" ? fault.target : fault.target.split(".")[0]!;
    return mesh.means[means]?.includes(subject) ? undefined : `${subject} has no ${what}`;
  };
}
