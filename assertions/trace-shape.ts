import type { FaultRecord, RequestRecord } from "./evidence";
import { clientService, hopCount, type Hop, type HopCount } from "./expectations";
import type { FaultEffect } from "./faults/descriptor";
import { graceMsOf } from "./faults/grace";
import { hopOfFault } from "./faults/location";
import { faultEffect } from "./faults/registry";

export { faultLocation, heldUntil, hopOfFault } from "./faults/location";
export type { FaultLocation } from "./faults/location";
export type { FaultEffect } from "./faults/descriptor";

/** A request succeeded when the edge answered 2xx or 3xx. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

/**
 * The services of a request's route whose spans of that request may have died unexported: a kill discards what its
 * exporter still held (the spans ended from the journal's `spansLostFromMs`), so a request under way between then and
 * the process being gone (the journal's `inPlaceAtMs`, else the kill) may lack the killed service's spans, whatever its outcome. Empty for a journal without that time.
 */
export function unexportedServices(
  request: Pick<RequestRecord, "startMs" | "endMs">,
  hops: readonly Hop[],
  faults: readonly FaultRecord[],
  edge?: string,
): Set<string> {
  const lost = new Set<string>();
  for (const f of faults) {
    if (f.spansLostFromMs === undefined) continue;
    if (request.endMs < f.spansLostFromMs || request.startMs > (f.inPlaceAtMs ?? f.appliedAtMs)) continue;
    if (f.target === edge || hops.some((h) => h.from === f.target || h.to === f.target)) lost.add(f.target);
    // Spans the process reported under names of its own (an in-process datastore client's) died with it too.
    for (const h of hops) if (h.from === f.target && h.reportedBy) lost.add(h.reportedBy);
  }
  return lost;
}

/** A request's expected spans with those of the services whose spans may have died unexported made optional. */
export function withoutUnexported(shape: ExpectedSpan[], unexported: ReadonlySet<string>): ExpectedSpan[] {
  return unexported.size ? shape.map((s) => (unexported.has(s.service) ? { ...s, required: false } : s)) : shape;
}

/**
 * The services of a request's route whose counters may not hold its calls: their counters were read from outside
 * before the process stopped (`lastSamplesAtMs`), and the request was under way between that read and the stop.
 */
export function uncountedServices(
  request: Pick<RequestRecord, "startMs" | "endMs">,
  hops: readonly Hop[],
  faults: readonly FaultRecord[],
): Set<string> {
  const uncounted = new Set<string>();
  for (const f of faults) {
    if (f.uncountedUntilMs === undefined || f.lastSamplesAtMs === undefined) continue;
    if (request.endMs < f.lastSamplesAtMs || request.startMs > f.uncountedUntilMs) continue;
    if (hops.some((h) => h.from === f.target || h.to === f.target)) uncounted.add(f.target);
  }
  return uncounted;
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
    const effect = faultEffect(fault);
    if (!effect?.fails) continue;
    const hop = hopOfFault(fault, hops, edge);
    if (hop === -1) continue;
    const endMs =
      (fault.revertedAtMs ?? windowEndMs) + graceMsOf(fault, hop === "edge" ? undefined : hops[hop], windowEndMs);
    if (request.endMs < fault.appliedAtMs || request.startMs > endMs) continue;
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
  /** Whether it is ERROR; undefined when either is true to the call (a server that finished after its caller left). */
  error: boolean | undefined;
  /** How many such spans: the hop's calls per request (one when absent). */
  count?: HopCount;
}

/**
 * The spans a request's trace holds, from its route's hops and its outcome: every hop for a success; for a failure
 * at hop k, the hops before k (ERROR on the ones the failure passed through on its way back), hop k's client span
 * and — per the fault kind — its server span, and after k only what hop k's callee may have called (optional).
 */
export function expectedSpans(hops: readonly Hop[], edge: string, explanation?: Explanation): ExpectedSpan[] {
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
    const effect = failing ? faultEffect(explanation!.fault) : undefined;
    const serverSpan = failing ? failingServerSpan(explanation!) : undefined;
    // A fan-out that failed stopped at one of its calls: at least that one was made.
    const declared = hopCount(hop);
    const count = failing || onFailurePath.has(i) ? { min: 1, max: declared.max } : declared;
    const counted = hop.count || count.min !== count.max ? { count } : {};
    // A db client that fails fast on a closed connection may never start its span.
    const clientRequired = !(failing && db && effect?.serverSpan === "absent");
    spans.push({
      service: clientService(hop),
      kind: "client",
      hop: i,
      peer: hop.to,
      required: clientRequired,
      error,
      ...counted,
    });
    if (db) continue;
    if (failing && serverSpan === "absent") continue;
    spans.push({
      service: hop.to,
      kind: "server",
      hop: i,
      required: !failing || serverSpan === "present",
      // A server that answered the error itself marks its span; one frozen, draining or cut off may finish its call
      // after the caller left, OK or with the deadline it then sees.
      error: failing ? (serverSpan === "present" ? true : undefined) : error,
      ...counted,
    });
  }
  if (failedAt !== undefined && failingServerSpan(explanation!) !== "absent") spans.push(...calleeWork(hops, failedAt));
  return spans;
}

/**
 * The spans of the calls a failing hop's callee may have made after its call arrived (a frozen server resumes, a
 * reset connection's request was already read): the hops after it that its callee, or their callees, make. Optional.
 */
function calleeWork(hops: readonly Hop[], failedAt: number): ExpectedSpan[] {
  const callees = new Set([hops[failedAt]!.to]);
  const spans: ExpectedSpan[] = [];
  for (let i = failedAt + 1; i < hops.length; i++) {
    const hop = hops[i]!;
    if (!callees.has(hop.from)) continue;
    const count = { min: 0, max: hopCount(hop).max };
    const optional = { hop: i, required: false, error: false, count };
    spans.push({ service: clientService(hop), kind: "client", peer: hop.to, ...optional });
    if (hop.protocol !== "http" && hop.protocol !== "grpc") continue;
    callees.add(hop.to);
    spans.push({ service: hop.to, kind: "server", ...optional });
  }
  return spans;
}

/**
 * The failing hop's server span for a failure: as its fault kind says, except that a call under way when the fault
 * was applied may have reached its server before the fault hit (its answer lost): optional, not absent.
 */
export function failingServerSpan(explanation: Explanation): FaultEffect["serverSpan"] | undefined {
  const declared = faultEffect(explanation.fault)?.serverSpan;
  return declared === "absent" && explanation.inFlight ? "optional" : declared;
}

/** The least and most spans a trace of this shape holds. */
export function spanCountRange(spans: readonly ExpectedSpan[]): { min: number; max: number } {
  const count = (s: ExpectedSpan) => s.count ?? { min: 1, max: 1 };
  return {
    min: spans.reduce((n, s) => n + (s.required ? count(s).min : 0), 0),
    max: spans.reduce((n, s) => n + count(s).max, 0),
  };
}
