import type { AssertionResult } from "../evidence";
import { coarsestForm, inForm, type StatusForm } from "../metric-labels";
import { disagreements, nonZero, sum } from "../metric-query";
import { endpointKey, leftOutReason, type Endpoint, type MetricView, type Tally } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import type { RequestView, RunView } from "../run-view";
import { serverChildren } from "../trace-index";
import { failingServerSpan } from "../trace-shape";
import { CALLER_GAVE_UP } from "./codes";
import { METRIC_ASSERTIONS } from "./ids";
import { rekey } from "./tally";

type HopProtocol = "http" | "grpc";

/** The callers of one service over one protocol, as the planned routes name them. */
interface HopTarget {
  to: string;
  protocol: HopProtocol;
  callers: string[];
  /** "orders+cart -> payments (grpc)", as findings name the hop. */
  label: string;
  /** Both sides' keys, as the coarser side can name them: see hopKeyOf. */
  keyOf: (key: string) => string;
}

type HopObserved = Record<string, unknown>;

/**
 * For HTTP hops both sides key by "METHOD|code" ("|code" when a side's series carry no method); for gRPC by
 * "pkg.Service/Method|code"; codes in the coarsest status form of the two sides (classes, or failed or not).
 */
function hopKeyOf(protocol: HopProtocol, withMethod: boolean, form: StatusForm): (key: string) => string {
  return (key) => {
    const split = key.lastIndexOf("|");
    const [operation, code] = [key.slice(0, split), key.slice(split + 1)];
    const what = protocol === "grpc" ? operation : withMethod ? operation.split(" ")[0] : "";
    return `${what}|${inForm(code, form, protocol)}`;
  };
}

/**
 * Every hop's server side agrees with its callers' client side per operation and code, and carried calls. A hop whose
 * server or a caller exposes no counter to compare (no /metrics, no client metric in its contract, a peer label that
 * names no service) is left out, not failed; with every hop left out, not promised.
 */
export function hopAgreement(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const observed: HopObserved = {};
  const leftOut: Record<string, string> = {};
  const hops = view.plannedHops().filter((h) => h.protocol === "http" || h.protocol === "grpc");
  const targets = [...new Set(hops.map((h) => `${h.to}|${h.protocol}`))];
  let compared = 0;
  for (const target of targets) {
    const [to = "", protocolName = ""] = target.split("|");
    const protocol = protocolName === "grpc" ? "grpc" : "http";
    const callers = [...new Set(hops.filter((h) => h.to === to && h.protocol === protocol).map((h) => h.from))];
    const label = `${callers.join("+")} -> ${to} (${protocol})`;
    const sides = hopSides(metrics, to, protocol, callers);
    if (typeof sides === "string") {
      leftOut[label] = sides;
      continue;
    }
    const withMethod = sides?.every((e) => metrics.contract(e).labels.httpMethod !== undefined) ?? true;
    const keyOf = hopKeyOf(protocol, withMethod, coarsestForm(sides?.map((e) => metrics.form(e)) ?? []));
    if (compareHop(metrics, { to, protocol, callers, label, keyOf }, findings, observed)) compared++;
  }
  const judged = targets.length - Object.keys(leftOut).length;
  if (targets.length > 0 && judged === 0)
    return notPromised(
      METRIC_ASSERTIONS.hopAgreement,
      "metrics",
      leftOutReason("no hop has counters on both sides to compare", leftOut),
      { leftOut },
    );
  return verdict(
    METRIC_ASSERTIONS.hopAgreement,
    "metrics",
    findings,
    { passed: "client and server counters agree per operation and code on every hop", failed: "hop counters disagree" },
    { compared, minimum: judged, what: "hop targets", because: "the hops of the planned routes" },
    { agreement: "server delta == client delta per operation and code" },
    Object.keys(leftOut).length ? { ...observed, leftOut } : observed,
  );
}

/**
 * A hop's server and caller endpoints when every one has a counter to compare; a string saying why one has not; or
 * undefined when a side is not a service of the run (compareHop reports that).
 */
function hopSides(
  metrics: MetricView,
  to: string,
  protocol: HopProtocol,
  callers: readonly string[],
): Endpoint[] | string | undefined {
  const server = metrics.view.service(to);
  const clients = callers.map((name) => metrics.view.service(name));
  if (!server || clients.some((c) => !c)) return undefined;
  const sides: Endpoint[] = [
    { service: server, protocol, side: "server" },
    ...clients.map((service): Endpoint => ({ service: service!, protocol, side: "client" })),
  ];
  const reasons = sides.flatMap((e) => {
    const why = metrics.unjudgeable(e, e.side === "client" && protocol === "http" ? ["counter", "peers"] : ["counter"]);
    return why ? [`${endpointKey(e)}: ${why}`] : [];
  });
  return reasons.length ? reasons.join("; ") : sides;
}

/** One hop target's server tally against its callers' client tallies; false when there was nothing to compare. */
function compareHop(metrics: MetricView, hop: HopTarget, findings: Findings, observed: HopObserved): boolean {
  const { view } = metrics;
  const { to, protocol, label, keyOf } = hop;
  const server = view.service(to);
  if (!server) {
    findings.add({ detail: `${label}: ${to} is not a service of the run` });
    return false;
  }
  const serverTally = rekey(metrics.counterTally({ service: server, protocol, side: "server" }), keyOf);
  const served = new Set([...serverTally.keys()].map((k) => k.split("|")[0]));
  const clientTally = callersTally(metrics, hop, served, findings);
  const calls = sum(serverTally.values());
  if (calls === 0 && sum(clientTally.values()) === 0) {
    findings.add({ detail: `${label}: no call counted on either side, but the plan's routes take this hop` });
    return false;
  }
  // Calls the server never saw (a link down, a dead server) or answered differently than its caller recorded (a
  // frozen server finishing after the caller's deadline): the traces say which, and the server's tally is moved
  // by them before the comparison, so only unexplained disagreement remains.
  const unseen = unseenByServer(metrics, to, protocol);
  const moved = { calls: unseen.calls, tally: rekey(unseen.tally, keyOf) };
  const adjusted = new Map(serverTally);
  for (const [k, v] of moved.tally) adjusted.set(k, (adjusted.get(k) ?? 0) + v);
  observed[label] = {
    server: nonZero(serverTally),
    client: nonZero(clientTally),
    ...(moved.calls ? { movedByTraces: nonZero(moved.tally) } : {}),
  };
  // A failed request left no trace when it was not sampled: what its calls on this hop did is unknown, and the
  // client may have counted that many calls its server never saw. A call whose spans on either side may have died
  // with a killed process, or under way between an outside read of its counters and its stop, may be in either side's
  // count or not.
  const onHop = (r: RequestView) => r.hops.filter((h) => h.to === to && h.protocol === protocol);
  const untraced = view.requests.filter((r) => !r.sampled && !r.success && onHop(r).length).length;
  const lost = sum(
    view.requests.map(
      (r) =>
        onHop(r).filter(
          (h) => r.unexported.has(h.from) || r.unexported.has(h.to) || r.uncounted.has(h.from) || r.uncounted.has(h.to),
        ).length,
    ),
  );
  for (const d of disagreements(adjusted, clientTally))
    if (d.a > d.b + lost || d.b - d.a > untraced + lost)
      findings.add({
        detail: `${label} ${d.key}: server counted ${serverTally.get(d.key) ?? 0}${moved.calls ? ` (${d.a} with the ${moved.calls} calls the traces show it did not answer as its caller saw)` : ""}, client counted ${d.b}`,
        expected: `${d.b} (the callers' count)`,
        observed: `${serverTally.get(d.key) ?? 0}${moved.calls ? ` (${d.a} with ${moved.calls} calls moved by their traces)` : ""}`,
        on: `${to} server counter ${d.key.replace(/\|/g, " ")}`,
        service: to,
        side: "server",
        counterparts: hop.callers.map((caller) => `${caller} client`),
      });
  return true;
}

/** The callers' client counters summed, keyed as the server's: only the calls to this hop's server. */
function callersTally(metrics: MetricView, hop: HopTarget, served: Set<string | undefined>, findings: Findings): Tally {
  const { to, protocol, keyOf } = hop;
  const clientTally: Tally = new Map();
  for (const name of hop.callers) {
    const caller = metrics.view.service(name);
    if (!caller) {
      findings.add({ detail: `${hop.label}: caller ${name} is not a service of the run` });
      continue;
    }
    const e: Endpoint = { service: caller, protocol, side: "client" };
    const tally = rekey(metrics.counterTally(e), (k) => {
      const operation = k.split("|")[0] ?? "";
      if (protocol === "grpc") return served.has(operation) ? k : undefined;
      return metrics.peerOf(e, operation) === to ? keyOf(k) : undefined;
    });
    for (const [k, v] of tally) clientTally.set(k, (clientTally.get(k) ?? 0) + v);
  }
  return clientTally;
}

/**
 * From the traces, the calls on a hop to `to` that its server did not count as its caller did: per hop key, +1 for
 * the client's code, -1 for the server's (when the server answered at all).
 */
function unseenByServer(metrics: MetricView, to: string, protocol: HopProtocol): { tally: Tally; calls: number } {
  return metrics.view.traceMemo(`unseen by ${to} (${protocol})`, () => computeUnseen(metrics.view, to, protocol));
}

function computeUnseen(view: RunView, to: string, protocol: HopProtocol): { tally: Tally; calls: number } {
  const tally: Tally = new Map();
  let calls = 0;
  const add = (key: string, n: number) => tally.set(key, (tally.get(key) ?? 0) + n);
  for (const r of view.requests) {
    if (!r.trace) continue;
    for (const p of r.placed) {
      if (p.span.kind !== "client" || p.peer !== to || view.reader.protocol(p.span) !== protocol) continue;
      const operation =
        protocol === "grpc"
          ? view.reader.rpcOperation(p.span)
          : String(p.span.attributes[view.reader.keys(p.span).httpMethod]);
      const clientCode = view.reader.code(p.span);
      const server = serverChildren(r.trace, p.span)[0];
      // No server span because it died unexported with its process: not a call the server never saw.
      if (!server && r.unexported.has(to)) continue;
      const serverCode = server ? view.reader.code(server) : undefined;
      if (server && serverCode === clientCode) continue;
      // A server may answer otherwise only when its caller gave up first or this hop's fault lost the answer;
      // any other mismatch is a telemetry mistake, left for the comparison to find.
      const failure = r.explanation;
      const answerLost = failure !== undefined && failure.hop === p.hop && failingServerSpan(failure) === "optional";
      if (server && !CALLER_GAVE_UP.has(clientCode ?? "") && !answerLost) continue;
      calls++;
      add(`${operation}|${clientCode}`, 1);
      if (server) add(`${operation}|${serverCode}`, -1);
    }
  }
  return { tally, calls };
}
