import { ConfigError } from "../errors";
import type { FaultSpec } from "../mesh";
import type { StartedMesh } from "../mesh/started-mesh";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

/**
 * Service faults through each service's admin API: "error" ({rate, code} for gRPC, {rate, status} for HTTP) and
 * "latency" ({ms, jitterMs}). The target is "service.method" or "service.METHOD /route" ("payments.Charge").
 */
export class ServiceFaultInjector implements FaultInjector {
  readonly kinds = ["error", "latency"] as const;

  constructor(private readonly mesh: StartedMesh) {}

  validate(fault: FaultPlan): void {
    this.locate(fault);
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    const { admin, target } = this.locate(fault);
    const added = await admin.addFault({ kind: fault.kind, target, ...adminParams(fault.params) } as FaultSpec);
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: Date.now() };
    return activeFault(record, () => admin.removeFault(added.id));
  }

  private locate(fault: FaultPlan) {
    const dot = fault.target.indexOf(".");
    const service = fault.target.slice(0, dot);
    const started = this.mesh.services[service];
    if (dot <= 0 || !started) {
      throw new ConfigError(
        `fault target "${fault.target}" must be "<service>.<method or route>" with a service of the mesh ` +
          `(${Object.keys(this.mesh.services).join(", ")})`,
      );
    }
    if (!started.admin) throw new ConfigError(`${service} offers no admin API: service faults cannot be injected`);
    return { admin: started.admin, target: fault.target.slice(dot + 1) };
  }
}

/** Scenario params name the code's protocol (grpcCode, httpStatus); the admin API takes code / status. */
function adminParams(params: Record<string, unknown>): Record<string, unknown> {
  const { grpcCode, httpStatus, ...rest } = params;
  return {
    ...rest,
    ...(grpcCode === undefined ? {} : { code: grpcCode }),
    ...(httpStatus === undefined ? {} : { status: httpStatus }),
  };
}
