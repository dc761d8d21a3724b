import { ConfigError } from "../errors";
import type { StartedMesh } from "../mesh/started-mesh";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

/**
 * "overload": the load itself, above the mesh's capacity, declared as the cause of the failures it brings (calls
 * time out anywhere along the route). Nothing is injected; the journal records when the scenario says its load
 * exceeds capacity, so the judge explains failures by it and the effect measurement checks that it did overload.
 * Target: the edge service, where the load comes in.
 */
export class OverloadInjector implements FaultInjector {
  readonly kinds = ["overload"] as const;

  constructor(private readonly mesh: StartedMesh) {}

  validate(fault: FaultPlan): void {
    const edge = Object.values(this.mesh.services).find((s) => s.role === "edge");
    if (fault.target !== edge?.name)
      throw new ConfigError(`overload target "${fault.target}" must be the edge service (${edge?.name ?? "none"})`);
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    this.validate(fault);
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: Date.now() };
    return activeFault(record, async () => {});
  }
}
