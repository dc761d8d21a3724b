import type { FaultRecord, RequestRecord } from "./evidence";
import type { Hop } from "./expectations";

/** A request succeeded when the edge answered 2xx or 3xx. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

/** What a fault kind does to the calls it hits, as far as explaining failures and expecting spans goes. */
export interface FaultEffect {
  /**
   * Whether the kind fails calls: where it acts (true), never (false: an added latency below every deadline), or
   * "may" (an overload: requests queue, and fail only when they outwait a deadline). A run with a fault that fails
   * must show a failure; one that may, need not.
   */
  fails: boolean | "may";
  /** Calls that end this long after the revert may still be its failures (connections in flight, restarts). */
  graceMs: number;
  /**
   * The failing hop's server span: "present" when the server itself answers the error (an injected error),
   * "absent" when the call never reached it (the link is down), "optional" when either can happen.
   */
  serverSpan: "present" | "absent" | "optional";
  /**
   * Whether a failed request's trace shape is unknown (an overload fails calls anywhere along the route): its trace
   * must be there and its status reconciled, but no hop is expected to be the failing one.
   */
  shapeUnknown?: boolean;
}

/**
 * The effect of each fault kind the harness can inject. A kind missing here explains no failure. Grace periods:
 * a call may fail that long after the revert — a gRPC client's deadline or reconnect backoff (2 s), an HTTP client's
 * timeout (5 s) — so the failures it still explains are bounded, not open-ended.
 */
export const FAULT_EFFECTS: Readonly<Record<string, FaultEffect>> = {
  error: { fails: true, graceMs: 0, serverSpan: "present" },
  latency: { fails: false, graceMs: 0, serverSpan: "present" },
  // A gRPC client whose connection broke waits out its reconnect backoff (up to 1 s + 20% jitter in the mesh) after
  // the revert, failing calls UNAVAILABLE meanwhile (seen in soak: a reset link's last failure 1.09 s after it).
  "link-down": { fails: true, graceMs: 2_000, serverSpan: "absent" },
  "link-latency": { fails: false, graceMs: 0, serverSpan: "present" },
  // No data either way until the client's deadline or timeout gives up.
  "link-timeout": { fails: true, graceMs: 5_000, serverSpan: "absent" },
  // Toxiproxy's reset_peer acts on the answering direction: a request may reach the server, its answer is reset.
  "link-reset": { fails: true, graceMs: 2_000, serverSpan: "optional" },
  "link-bandwidth": { fails: false, graceMs: 0, serverSpan: "present" },
  // Dead until restarted: calls in flight lose their server span with the process, later ones are refused.
  kill: { fails: true, graceMs: 2_000, serverSpan: "absent" },
  // Frozen: calls wait past their deadline; the server may finish them after the thaw, too late and OK.
  freeze: { fails: true, graceMs: 2_000, serverSpan: "optional" },
  // Draining: calls in flight finish, new ones are refused until it is back.
  restart: { fails: true, graceMs: 2_000, serverSpan: "optional" },
  memory: { fails: false, graceMs: 0, serverSpan: "present" },
  stall: { fails: false, graceMs: 0, serverSpan: "present" },
  cpu: { fails: false, graceMs: 0, serverSpan: "present" },
  // The load beyond capacity: any call may time out anywhere; a request queued in it may end up to the gateway's
  // 5 s timeout (and the driver's) after the overload ended.
  overload: { fails: "may", graceMs: 10_000, serverSpan: "optional", shapeUnknown: true },
};

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
 * A fault's target as the scenario names it: "payments.Charge" / "payments" for service faults (process and
 * resource faults name the service), "orders-redis" (from-to) for network faults (kinds starting with "link-").
 */
export function faultLocation(fault: Pick<FaultRecord, "kind" | "target">): FaultLocation {
  if (fault.kind.startsWith("link-")) {
    const dash = fault.target.indexOf("-");
    return { link: { from: fault.target.slice(0, dash), to: fault.target.slice(dash + 1) } };
  }
  const dot = fault.target.indexOf(".");
  return dot < 0
    ? { service: fault.target }
    : { service: fault.target.slice(0, dot), method: fault.target.slice(dot + 1) };
}

/** Index of the first hop of `hops` the fault hits; "edge" for a fault on the edge service itself; -1 when none. */
export function hopOfFault(fault: Pick<FaultRecord, "kind" | "target">, hops: readonly Hop[], edge?: string) {
  const at = faultLocation(fault);
  if ("link" in at) return hops.findIndex((h) => h.from === at.link.from && h.to === at.link.to);
  if (at.service === edge) return "edge" as const;
  return hops.findIndex(
    (h) => h.to === at.service && (at.method === undefined || h.method === undefined || h.method === at.method),
  );
}

/**
 * The services of a request's route whose spans of that request may have died unexported: a kill discards what its
 * exporter still held (the spans ended from the journal's `spansLostFromMs`), so a request under way between then and
 * the kill may lack the killed service's spans, whatever its outcome. Empty for a journal without that time.
 */
export function unexportedServices(
  request: Pick<RequestRecord, "startMs" | "endMs">,
  hops: readonly Hop[],
  faults: readonly FaultRecord[],
  edge?: string,
): Set<string> {
  const lost = new Set<string>();
  for (const f of faults) {
    if (f.kind !== "kill" || f.spansLostFromMs === undefined) continue;
    if (request.endMs < f.spansLostFromMs || request.startMs > f.appliedAtMs) continue;
    if (f.target === edge || hops.some((h) => h.from === f.target || h.to === f.target)) lost.add(f.target);
  }
  return lost;
}

/** The fault a failed request is put down to, and the hop of its route where it failed ("edge": at the edge). */
export interface Explanation {
  fault: FaultRecord;
  hop: number | "edge";
  /**
   * The request was under way when the fault was applied: its call on the failing hop may have reached the server
   * before the link went down or the process died, and only the answer was lost (its server span may be there).
   */
  inFlight: boolean;
}

/**
 * Which journaled fault explains a failed request: one whose kind fails calls, whose target lies on the request's
 * route, and whose window (applied to reverted + the kind's grace) overlaps the request. When several do, the one
 * hit first along the route.
 */
export function explainFailure(
  request: RequestRecord,
  hops: readonly Hop[],
  faults: readonly FaultRecord[],
  windowEndMs: number,
  edge?: string,
): Explanation | undefined {
  let best: Explanation | undefined;
  const order = (hop: number | "edge") => (hop === "edge" ? -1 : hop);
  for (const fault of faults) {
    const effect = FAULT_EFFECTS[fault.kind];
    if (!effect?.fails) continue;
    const endMs = (fault.revertedAtMs ?? windowEndMs) + effect.graceMs;
    if (request.endMs < fault.appliedAtMs || request.startMs > endMs) continue;
    const hop = hopOfFault(fault, hops, edge);
    if (hop === -1) continue;
    if (!best || order(hop) < order(best.hop)) best = { fault, hop, inFlight: request.startMs < fault.appliedAtMs };
  }
  return best;
}

/** One span a request's trace must (or may) hold, and whether it must carry ERROR status. */
export interface ExpectedSpan {
  service: string;
  kind: "server" | "client";
  /** The hop it belongs to; "edge" for the edge's server span. */
  hop: number | "edge";
  /** Peer of a client span (the hop's `to`). */
  peer?: string;
  required: boolean;
  error: boolean;
}

/**
 * The spans a request's trace holds, from its route's hops and its outcome: every hop for a success; for a failure
 * at hop k, the hops before k (ERROR on the ones the failure passed through on its way back), hop k's client span
 * and — per the fault kind — its server span, and nothing after k.
 */
export function expectedSpans(
  hops: readonly Hop[],
  edge: string,
  explanation?: Explanation,
  effects: Readonly<Record<string, FaultEffect>> = FAULT_EFFECTS,
): ExpectedSpan[] {
  const failedAt = explanation?.hop;
  const spans: ExpectedSpan[] = [
    { service: edge, kind: "server", hop: "edge", required: true, error: failedAt !== undefined },
  ];
  if (failedAt === "edge") return spans;
  const last = failedAt ?? hops.length - 1;
  const onFailurePath = new Set<number>();
  if (failedAt !== undefined) {
    // The failure travels back through the hop that called the failing one, and that hop's caller, to the edge.
    let caller = hops[failedAt]!.from;
    for (let j = failedAt - 1; j >= 0; j--)
      if (hops[j]!.to === caller) {
        onFailurePath.add(j);
        caller = hops[j]!.from;
      }
  }
  for (let i = 0; i <= last; i++) {
    const hop = hops[i]!;
    const failing = i === failedAt;
    const error = failing || onFailurePath.has(i);
    const db = hop.protocol !== "http" && hop.protocol !== "grpc";
    const effect = failing ? effects[explanation!.fault.kind] : undefined;
    const serverSpan = failing ? failingServerSpan(explanation!, effects) : undefined;
    // A db client that fails fast on a closed connection may never start its span.
    const clientRequired = !(failing && db && effect?.serverSpan === "absent");
    spans.push({ service: hop.from, kind: "client", hop: i, peer: hop.to, required: clientRequired, error });
    if (db) continue;
    if (failing && serverSpan === "absent") continue;
    spans.push({
      service: hop.to,
      kind: "server",
      hop: i,
      required: !failing || serverSpan === "present",
      // Only a server that answered the error itself marks its span; a frozen or draining one finishes late, OK.
      error: failing ? serverSpan === "present" : error,
    });
  }
  return spans;
}

/**
 * The failing hop's server span for a failure: as its fault kind says, except that a call under way when the fault
 * was applied may have reached its server before the fault hit (its answer lost): optional, not absent.
 */
export function failingServerSpan(
  explanation: Explanation,
  effects: Readonly<Record<string, FaultEffect>> = FAULT_EFFECTS,
): FaultEffect["serverSpan"] | undefined {
  const declared = effects[explanation.fault.kind]?.serverSpan;
  return declared === "absent" && explanation.inFlight ? "optional" : declared;
}

/** The least and most spans a trace of this shape holds. */
export function spanCountRange(spans: readonly ExpectedSpan[]): { min: number; max: number } {
  return { min: spans.filter((s) => s.required).length, max: spans.length };
}
