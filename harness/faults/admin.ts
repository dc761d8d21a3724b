import type { FaultSpecOf } from "../../assertions/faults";
import { ConfigError } from "../errors";
import { AdminClient, type AdminFault } from "../mesh/admin-client";
import type { StartedMesh } from "../mesh/started-mesh";
import type { Leftover } from "./disk-journal";
import { needs, type FaultInjector } from "./injector";

/** The service a fault names and its admin API; `whole`: the fault names only the service (no method or route). */
function adminOf(fault: { kind: string; target: string }, mesh: StartedMesh, whole: boolean) {
  const services = mesh.services;
  const dot = whole ? fault.target.length : fault.target.indexOf(".");
  const name = fault.target.slice(0, dot);
  const service = dot > 0 && Object.hasOwn(services, name) ? services[name] : undefined;
  if (!service)
    throw new ConfigError(
      `${fault.kind} fault target "${fault.target}" must be ${whole ? '"<service>" (a resource fault names no method or route)' : '"<service>.<method or route>"'} with a service of the mesh (${Object.keys(services).join(", ")})`,
    );
  if (!service.admin) throw new ConfigError(`${name} offers no admin API: service faults cannot be injected`);
  return { admin: service.admin, operation: fault.target.slice(dot + 1) };
}

/** A fault the service applies itself through its admin API, removed on revert. */
function throughAdmin<K extends "error" | "latency" | "memory" | "stall" | "cpu">(
  whole: boolean,
  spec: (fault: FaultSpecOf<K>, operation: string) => AdminFault,
): FaultInjector<K> {
  return {
    via: "admin",
    whyNot: needs("admin", "admin API (faults inside a service need its cooperation)"),
    validate: (fault, mesh) => void adminOf(fault, mesh, whole),
    leftover(fault, mesh) {
      const { admin, operation } = adminOf(fault, mesh, whole);
      return { via: "admin", url: admin.url, token: admin.token, spec: spec(fault, operation) };
    },
    async apply(fault, mesh) {
      const { admin, operation } = adminOf(fault, mesh, whole);
      // A resource fault acts while it is being applied (memory is held chunk by chunk): it counts from the request.
      const appliedAtMs = Date.now();
      const added = await admin.addFault(spec(fault, operation));
      return {
        appliedAtMs,
        leftover: { via: "admin", url: admin.url, token: admin.token, spec: { ...added }, faultId: added.id },
        revert: () => admin.removeFault(added.id),
      };
    },
  };
}

/** "error": a share of the method's calls fail with the gRPC code or HTTP status (the admin API's code / status). */
export const serviceError = throughAdmin<"error">(false, ({ params: p }, target) => ({
  kind: "error",
  target,
  rate: p.rate,
  ...(p.grpcCode === undefined ? {} : { code: p.grpcCode }),
  ...(p.httpStatus === undefined ? {} : { status: p.httpStatus }),
}));
export const serviceLatency = throughAdmin<"latency">(false, ({ params: p }, target) => ({
  kind: "latency",
  target,
  ...p,
}));
export const serviceMemory = throughAdmin<"memory">(true, ({ params: p }) => ({ kind: "memory", ...p }));
export const serviceStall = throughAdmin<"stall">(true, ({ params: p }) => ({ kind: "stall", ...p }));
export const serviceCpu = throughAdmin<"cpu">(true, ({ params: p }) => ({ kind: "cpu", ...p }));

/**
 * Undoes a service fault through its admin API alone (the lifeline's and a later run's revert): by the id the service
 * gave it, or, when the harness died before it learnt the id, every fault of the service that matches its spec. A
 * service that no longer answers took the fault with it (said in the note it resolves with).
 */
export async function revertAdminLeftover(leftover: Extract<Leftover, { via: "admin" }>): Promise<string | void> {
  const admin = new AdminClient(leftover.url, leftover.token);
  try {
    const ids = leftover.faultId
      ? [leftover.faultId]
      : (await admin.listFaults())
          .filter((f) => Object.entries(leftover.spec).every(([k, v]) => (f as Record<string, unknown>)[k] === v))
          .map((f) => f.id);
    await Promise.all(ids.map((id) => admin.removeFault(id)));
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if (cause === "ECONNREFUSED") return `the admin API at ${leftover.url} is gone: the fault went with its service`;
    throw error;
  }
}
