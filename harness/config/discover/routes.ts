import type { Hop } from "../../../assertions/expectations";
import type { Span } from "../../../assertions/trace-model";
import type { RouteConfig } from "../mesh-config";
import { callsBelow, type Call, type CallContext } from "./calls";
import type { Notes } from "./draft";
import { rootServer, type SampledTrace } from "./sampled-traces";
import { operationOf, requestTarget, spanProtocol, succeeded } from "./span-facts";

/** A hop as seen across the traces of one route. */
export interface HopSeen {
  hop: Hop;
  /** Traces of the route it was judged on, and how many of them made the call at all. */
  traces: number;
  present: number;
  /** Calls per request (fewest where it was made, most). */
  min: number;
  max: number;
  /** Failed calls in requests that succeeded (attempts that were retried), and all calls. */
  failedInSuccess: number;
  /** The fewest calls that did not fail, per request: what a request whose attempts all succeed makes. */
  minSucceeded: number;
  calls: number;
  /** The caller's addresses of the callee, with how often each was called. */
  addresses: Map<string, number>;
  uninstrumented: boolean;
  /** The span names that stand for it, as `service "name"`. */
  spans: Set<string>;
}

export interface RoutesSeen {
  routes: Record<string, RouteConfig>;
  hops: HopSeen[];
  /** Edge operations that are no route the driver can send, with why. */
  skipped: string[];
}

/**
 * The routes a driver can send to the edge, read off sampled traces whose root is one of the edge's HTTP server spans:
 * one per "METHOD /route", with the request a sampled trace shows and its hops in call order, each with the range of
 * calls per request seen. Every value carries a note saying what it was read from.
 */
export function discoverRoutes(
  traces: readonly SampledTrace[],
  edge: string,
  context: CallContext,
  notes: Notes,
): RoutesSeen {
  const byRoute = new Map<string, { root: Span; t: SampledTrace }[]>();
  const skipped: string[] = [];
  for (const t of traces) {
    const root = rootServer(t);
    if (!root || root.service !== edge) continue;
    const name = spanProtocol(root) === "http" ? operationOf(root, "http") : undefined;
    if (!name) {
      skipped.push(`${edge} "${root.name}" (not an HTTP operation with a method and route)`);
      continue;
    }
    byRoute.set(name, [...(byRoute.get(name) ?? []), { root, t }]);
  }
  const routes: Record<string, RouteConfig> = {};
  const hops: HopSeen[] = [];
  for (const [name, samples] of [...byRoute].sort(([a], [b]) => a.localeCompare(b))) {
    const method = name.split(" ")[0]!;
    const seen = routeHops(samples, context);
    if (method !== "GET" && method !== "POST") skipped.push(`${name} (the driver sends GET and POST only)`);
    else if (!seen.length) skipped.push(`${name} (calls no other service in ${samples.length} sampled traces)`);
    else {
      routes[name] = routeConfig(name, samples, seen, notes);
      hops.push(...seen);
    }
  }
  return { routes, hops, skipped: [...new Set(skipped)] };
}

function routeConfig(name: string, samples: { root: Span; t: SampledTrace }[], seen: HopSeen[], notes: Notes) {
  const method = name.split(" ")[0] as "GET" | "POST";
  const targets = samples.map(({ root, t }) => requestTarget(root, t.raw.get(root.spanId)));
  const [target, times] = mostCommon(targets.flatMap((r) => (r ? [JSON.stringify(r)] : [])));
  const request = target ? (JSON.parse(target) as { target: string; from: string }) : undefined;
  const path = request?.target ?? name.slice(method.length + 1);
  notes.guess(
    ["routes", name],
    `${samples.length} sampled traces whose root is ${samples[0]!.root.service}'s server span "${samples[0]!.root.name}"`,
  );
  notes.guess(
    ["routes", name, "request"],
    request
      ? `from ${request.from} (${times} of ${samples.length} root spans alike)`
      : "the route's template: no root span recorded the path it was asked for",
  );
  if (!request) notes.fillIn(["routes", name, "request"], "path: a path the route serves (this is its template)");
  else if (!request.target.includes("?"))
    notes.fillIn(["routes", name, "request"], "the query string the route needs, if any (none was recorded)");
  if (method === "POST") notes.fillIn(["routes", name, "request"], "body: the JSON body a request sends");
  seen.forEach((s, i) => notes.guess(["routes", name, "hops", i], hopNote(s)));
  return { request: { method, path }, hops: seen.map((s) => s.hop) };
}

/** The hops of one route's traces, in the order they are first called, judged on the requests that succeeded. */
function routeHops(samples: { root: Span; t: SampledTrace }[], context: CallContext): HopSeen[] {
  const ok = samples.filter(({ root }) => succeeded(root));
  const judged = ok.length ? ok : samples;
  const byKey = new Map<string, HopSeen & { rank: number }>();
  for (const { root, t } of judged) {
    const calls = callsBelow(t, root, root.service, context);
    const perTrace = new Map<string, Call[]>();
    for (const call of calls) {
      const key = JSON.stringify([call.from, call.to, call.protocol, call.method, call.reportedBy]);
      perTrace.set(key, [...(perTrace.get(key) ?? []), call]);
    }
    [...perTrace].forEach(([key, list], rank) => {
      const s = byKey.get(key) ?? newHop(list[0]!, judged.length);
      s.present += 1;
      s.min = Math.min(s.min, list.length);
      s.max = Math.max(s.max, list.length);
      s.calls += list.length;
      s.rank += rank;
      const failed = list.filter((c) => c.error).length;
      s.failedInSuccess += ok.length ? failed : 0;
      s.minSucceeded = Math.min(s.minSucceeded, list.length - failed);
      for (const c of list) {
        if (c.address) s.addresses.set(c.address, (s.addresses.get(c.address) ?? 0) + 1);
        s.spans.add(`${c.span.service} "${c.span.name}"`);
      }
      byKey.set(key, s);
    });
  }
  return [...byKey.values()]
    .sort((a, b) => a.rank / a.present - b.rank / b.present)
    .map(({ rank: _rank, ...s }) => withCount(s));
}

function newHop(call: Call, traces: number): HopSeen & { rank: number } {
  const hop: Hop = {
    from: call.from,
    to: call.to,
    protocol: call.protocol,
    ...(call.method ? { method: call.method } : {}),
    ...(call.reportedBy ? { reportedBy: call.reportedBy } : {}),
  };
  return {
    hop,
    traces,
    present: 0,
    min: Infinity,
    max: 0,
    failedInSuccess: 0,
    minSucceeded: Infinity,
    calls: 0,
    addresses: new Map(),
    uninstrumented: call.uninstrumented,
    spans: new Set(),
    rank: 0,
  };
}

/** A retried hop's fewest calls are those of a request none of whose attempts failed. */
function withCount(s: HopSeen): HopSeen {
  const hop: Hop = { ...s.hop };
  const retried = s.failedInSuccess > 0;
  const min = retried ? Math.max(1, s.minSucceeded) : s.min;
  if (min !== 1 || s.max !== 1) hop.count = { min, max: s.max };
  if (retried) hop.retried = true;
  return { ...s, hop };
}

function hopNote(s: HopSeen): string {
  const calls = s.min === s.max ? `${s.min} call${s.min === 1 ? "" : "s"}` : `${s.min}-${s.max} calls`;
  const where = s.present === s.traces ? `each of ${s.traces}` : `${s.present} of ${s.traces} (absent from the rest)`;
  const parts = [`${calls} per request in ${where} sampled traces, from client spans ${[...s.spans].join(", ")}`];
  if (s.hop.reportedBy)
    parts.push(`${s.hop.reportedBy} reports no server spans: a tracer inside ${s.hop.from}'s process (reportedBy)`);
  if (s.uninstrumented && !s.hop.reportedBy && (s.hop.protocol === "http" || s.hop.protocol === "grpc"))
    parts.push(`no server span answers them: ${s.hop.to} is taken for a service that reports no traces`);
  if (s.hop.retried)
    parts.push(
      `${s.failedInSuccess} of ${s.calls} failed in requests that succeeded: retried, so count.min is the fewest calls that did not fail (${s.hop.count?.min ?? 1}); widen count.max to the retry budget`,
    );
  return parts.join("; ");
}

/** The most frequent value and how often it occurs ([undefined, 0] for none). */
export function mostCommon(values: readonly string[]): [string | undefined, number] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
}
