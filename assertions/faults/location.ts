import type { FaultRecord } from "../evidence";
import type { Hop } from "../expectations";
import { FAULTS } from "./registry";

/**
 * Until when a fault acted: until its revert began (a killed service's start issued; a revert that failed because
 * the process was gone began, and the fault went with the process), else to the end of the window.
 */
export function heldUntil(fault: Pick<FaultRecord, "revertStartedAtMs" | "revertedAtMs">, windowEndMs: number): number {
  return fault.revertStartedAtMs ?? fault.revertedAtMs ?? windowEndMs;
}

/** Where a fault hits: a service (and optionally one of its methods) or a network link between two parties. */
export type FaultLocation = { service: string; method?: string } | { link: { from: string; to: string } };

/**
 * A fault's target as its kind's site names it: "orders-redis" (from-to) for a link, "payments.Charge" or "payments"
 * for everything else. An unknown kind is read as a service fault.
 */
export function faultLocation(fault: Pick<FaultRecord, "kind" | "target" | "link">): FaultLocation {
  if (fault.link) return { link: { from: fault.link.from, to: fault.link.to } };
  if (FAULTS[fault.kind as keyof typeof FAULTS]?.site === "link") {
    const dash = fault.target.indexOf("-");
    return { link: { from: fault.target.slice(0, dash), to: fault.target.slice(dash + 1) } };
  }
  const dot = fault.target.indexOf(".");
  return dot < 0
    ? { service: fault.target }
    : { service: fault.target.slice(0, dot), method: fault.target.slice(dot + 1) };
}

/** Index of the first hop of `hops` the fault hits; "edge" for a fault on the edge service itself; -1 when none. */
export function hopOfFault(fault: Pick<FaultRecord, "kind" | "target" | "link">, hops: readonly Hop[], edge?: string) {
  const at = faultLocation(fault);
  if ("link" in at) return hops.findIndex((h) => h.from === at.link.from && h.to === at.link.to);
  if (at.service === edge) return "edge" as const;
  return hops.findIndex(
    (h) => h.to === at.service && (at.method === undefined || h.method === undefined || h.method === at.method),
  );
}

/**
 * Where a request fault (an error or a latency on a service's method) acts: the service and method it names, and
 * for one injected in front of the callee (an L7 proxy, `via: "l7"`) the caller whose calls it answers: the link's
 * caller, or the one caller of that method among the route's hops. Undefined for other kinds.
 */
export function requestFaultSite(
  fault: Pick<FaultRecord, "target" | "via" | "link">,
  hops: readonly Hop[],
): { service: string; method?: string; caller?: string } {
  const dot = fault.target.indexOf(".");
  const service = dot < 0 ? fault.target : fault.target.slice(0, dot);
  const method = dot < 0 ? undefined : fault.target.slice(dot + 1);
  if (fault.via !== "l7") return { service, ...(method ? { method } : {}) };
  const callers = [
    ...new Set(
      hops.filter((h) => h.to === service && (!method || !h.method || h.method === method)).map((h) => h.from),
    ),
  ];
  const caller = fault.link?.from ?? (callers.length === 1 ? callers[0] : undefined);
  return { service, ...(method ? { method } : {}), ...(caller ? { caller } : {}) };
}
