import { ConfigError } from "../errors";
import { RESOURCE_FAULT_KINDS, type FaultSpec } from "../mesh";
import type { StartedMesh } from "../mesh/started-mesh";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

const RESOURCE_KINDS: ReadonlySet<string> = new Set(RESOURCE_FAULT_KINDS);

/**
 * Service faults through each service's admin API. Request faults: "error" ({rate, grpcCode} for gRPC,
 * {rate, httpStatus} for HTTP) and "latency" ({ms, jitterMs}), target "service.method" or "service.METHOD /route"
 * ("payments.Charge"). Resource faults: "memory" ({mb}), "stall" ({blockMs, everyMs}) and "cpu" ({fraction}), target
 * a service name ("orders"); the service validates the params (its 400 names the key) and answers once the effect
 * is in place.
 */
export class ServiceFaultInjector implements FaultInjector {
  readonly kinds = ["error", "latency", ...RESOURCE_FAULT_KINDS] as const;

  constructor(private readonly mesh: StartedMesh) {}

  validate(fault: FaultPlan): void {
    this.locate(fault);
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    const { admin, target } = this.locate(fault);
    const spec = (
      target === undefined
        ? { kind: fault.kind, ...fault.params }
        : { kind: fault.kind, target, ...adminParams(fault.params) }
    ) as FaultSpec;
    // A resource fault acts while it is being applied (memory is held chunk by chunk): it counts from the request.
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: Date.now() };
    const added = await admin.addFault(spec);
    return activeFault(record, () => admin.removeFault(added.id));
  }

  /** The service's admin client and the admin API's target (none for a resource fault). */
  private locate(fault: FaultPlan) {
    const services = this.mesh.services;
    const resource = RESOURCE_KINDS.has(fault.kind);
    // A resource fault acts on the whole process, so it names only the service; a request fault its method too.
    const dot = resource ? fault.target.length : fault.target.indexOf(".");
    const service = fault.target.slice(0, dot);
    const started = dot > 0 && Object.hasOwn(services, service) ? services[service] : undefined;
    if (!started)
      throw new ConfigError(
        `${fault.kind} fault target "${fault.target}" must be ${resource ? '"<service>" (a resource fault names no method or route)' : '"<service>.<method or route>"'} with a service of the mesh (${Object.keys(services).join(", ")})`,
      );
    if (!started.admin) throw new ConfigError(`${service} offers no admin API: service faults cannot be injected`);
    return { admin: started.admin, target: resource ? undefined : fault.target.slice(dot + 1) };
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
