import { DEFAULT_CONTRACT, type TelemetryContract } from "./contract";
import type { AssertionResult, Evidence, RequestRecord } from "./evidence";
import { DEFAULT_SEMCONV } from "./expectations";
import type { Expectations, SpanSelector } from "./expectations";
import { Findings, verdict } from "./result";
import { hopKey, indexTrace, observedHops, peerOf, protocolOf, serverChildren, spanClassOf } from "./trace-index";
import type { IndexedTrace } from "./trace-index";
import type { Span } from "./trace-model";

/** Stable ids of the trace family. */
export const TRACE_ASSERTIONS = {
  complete: "traces.complete",
  singleRoot: "traces.single-root",
  noOrphans: "traces.no-orphans",
  hopGraph: "traces.hop-graph",
  clientServerPairs: "traces.client-server-pairs",
  semconv: "traces.semconv",
  requestId: "traces.request-id",
  noErrorOnSuccess: "traces.no-error-on-success",
  errorPath: "traces.error-path",
} as const;

/** A request succeeded when the edge answered 2xx or 3xx. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 400;
}

function label(span: Span): string {
  return `${span.service} ${span.kind} span "${span.name}"`;
}

function matchesSelector(index: IndexedTrace, span: Span, selector: SpanSelector): boolean {
  return (
    span.service === selector.service &&
    span.kind === selector.kind &&
    (selector.peer === undefined || (span.kind === "client" && peerOf(index, span) === selector.peer))
  );
}

function describeSelector(selector: SpanSelector): string {
  return `${selector.service} ${selector.kind}${selector.peer ? ` -> ${selector.peer}` : ""}`;
}

/**
 * Family "traces": every request's trace is there and whole (one root, no orphans, every client span answered by a
 * server span), follows the route's hop graph, carries semantic-convention attributes and the request id, and has
 * ERROR status exactly where a failure happened.
 */
export function assertTraces(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  const options = expectations.traces ?? {};
  const semconv = options.semconv ?? DEFAULT_SEMCONV;
  const requestIdKey = options.requestIdAttribute ?? contract.requestIdAttribute;
  const requestIdKinds = new Set(options.requestIdSpanKinds ?? ["server"]);
  const edge = evidence.services.find((s) => s.role === "edge")?.name;
  const id = TRACE_ASSERTIONS;
  const found = {
    complete: new Findings(),
    singleRoot: new Findings(),
    noOrphans: new Findings(),
    hopGraph: new Findings(),
    clientServerPairs: new Findings(),
    semconv: new Findings(),
    requestId: new Findings(),
    noErrorOnSuccess: new Findings(),
    errorPath: new Findings(),
  };
  const missing = { notFetched: 0, neverFound: 0, empty: 0 };
  let judged = 0;
  let failedRequests = 0;
  let errorTraces = 0;

  for (const request of evidence.requests) {
    const at = { traceId: request.traceId, requestId: request.id };
    const success = isSuccess(request.status);
    if (!success) failedRequests++;
    if (!(request.traceId in evidence.traces)) {
      missing.notFetched++;
      found.complete.add({ ...at, detail: `${request.route} has no trace: it was never fetched` });
      continue;
    }
    const trace = evidence.traces[request.traceId];
    if (!trace || trace.spans.length === 0) {
      if (trace) missing.empty++;
      else missing.neverFound++;
      const why = trace ? "the store returned it without spans" : "never found in the trace store before the deadline";
      found.complete.add({ ...at, detail: `${request.route} has no trace: ${why}` });
      continue;
    }
    judged++;
    const index = indexTrace(trace, request.parentSpanId, edge);
    const add = (key: keyof typeof found, detail: string) => found[key].add({ ...at, detail });

    const root = index.roots[0];
    if (index.roots.length !== 1)
      add("singleRoot", `${index.roots.length} roots (${index.roots.map(label).join(", ")})`);
    else if (root && (root.service !== edge || root.kind !== "server"))
      add("singleRoot", `root is ${label(root)}, expected the ${edge} server span`);

    for (const orphan of index.orphans.slice(0, 1))
      add(
        "noOrphans",
        `${index.orphans.length} orphan(s), e.g. ${label(orphan)} whose parent ${orphan.parentSpanId} is not in the trace`,
      );

    checkHops(expectations, request, index, success, (d) => add("hopGraph", d));

    const errorSpans: Span[] = [];
    for (const span of trace.spans) {
      if (span.status === "error") errorSpans.push(span);
      const protocol = protocolOf(span);
      if (span.kind === "client" && (protocol === "http" || protocol === "grpc")) {
        const servers = serverChildren(index, span);
        if (servers.length !== 1)
          add("clientServerPairs", `${label(span)} has ${servers.length} server children, expected 1`);
      }
      const spanClass = spanClassOf(span);
      if (spanClass) {
        const lacking = semconv[spanClass].filter((anyOf) => !anyOf.some((key) => span.attributes[key] !== undefined));
        if (lacking.length)
          add("semconv", `${label(span)} (${spanClass}) lacks ${lacking.map((k) => k.join("|")).join(", ")}`);
      } else if (span.kind === "server" || span.kind === "client")
        add("semconv", `${label(span)} has no http, rpc or db attributes`);
      const requestId = span.attributes[requestIdKey];
      if (requestId !== undefined ? requestId !== request.id : requestIdKinds.has(span.kind)) {
        const got = requestId === undefined ? "none" : `"${String(requestId)}"`;
        add("requestId", `${label(span)} has ${requestIdKey} ${got}, the driver sent "${request.id}"`);
      }
    }
    if (errorSpans.length) errorTraces++;
    if (success && errorSpans.length)
      add(
        "noErrorOnSuccess",
        `${request.route} answered ${request.status} but ${errorSpans.map(label).join(", ")} has ERROR status`,
      );
    if (!success && options.errorPath) checkErrorPath(index, errorSpans, options.errorPath, (d) => add("errorPath", d));
  }

  const traced = `${judged} of ${evidence.requests.length} traces`;
  const results = [
    verdict(
      id.complete,
      "traces",
      found.complete,
      {
        passed: `all ${evidence.requests.length} requests have their trace`,
        failed: `${found.complete.count} of ${evidence.requests.length} requests have no trace (never found ${missing.neverFound}, empty ${missing.empty}, not fetched ${missing.notFetched})`,
      },
      { traces: evidence.requests.length },
      { found: judged, ...missing },
    ),
    judgeTraces(id.singleRoot, found.singleRoot, traced, "have exactly one root, the edge server span"),
    judgeTraces(id.noOrphans, found.noOrphans, traced, "have no orphan span"),
    judgeTraces(id.hopGraph, found.hopGraph, traced, "follow their route's hop graph"),
    judgeTraces(id.clientServerPairs, found.clientServerPairs, traced, "answer every client span with one server span"),
    judgeTraces(id.semconv, found.semconv, traced, "carry the semantic-convention attributes"),
    judgeTraces(id.requestId, found.requestId, traced, `carry the sent ${requestIdKey} on their spans`),
    judgeTraces(id.noErrorOnSuccess, found.noErrorOnSuccess, traced, "of successful requests have no ERROR span"),
  ];
  if (options.errorPath) {
    if (errorTraces !== failedRequests)
      found.errorPath.add({
        detail: `${errorTraces} traces have ERROR spans but the driver saw ${failedRequests} failures`,
      });
    results.push(
      verdict(
        id.errorPath,
        "traces",
        found.errorPath,
        {
          passed: `${failedRequests} failed requests have ERROR exactly on ${options.errorPath.map(describeSelector).join(", ")}`,
          failed: "ERROR status is not exactly on the failure path",
        },
        { errorTraces: failedRequests, path: options.errorPath.map(describeSelector) },
        { errorTraces, findings: found.errorPath.count },
      ),
    );
  }
  return results;
}

function judgeTraces(id: string, findings: Findings, traced: string, claim: string): AssertionResult {
  return verdict(
    id,
    "traces",
    findings,
    { passed: `${traced} ${claim}`, failed: `${findings.count} finding(s) over ${traced}` },
    { findings: 0 },
    { findings: findings.count },
  );
}

function checkHops(
  expectations: Expectations,
  request: RequestRecord,
  index: IndexedTrace,
  success: boolean,
  add: (detail: string) => void,
): void {
  const hops = expectations.topology[request.route];
  if (!hops) return add(`route "${request.route}" has no expected topology`);
  const expected = new Set(hops.map((h) => hopKey(h.from, h.to, h.protocol)));
  const observed = observedHops(index);
  const unexpected = [...observed].filter((h) => !expected.has(h));
  // A failed request may stop before its later hops; it still may not take a hop the route does not have.
  const lacking = success ? [...expected].filter((h) => !observed.has(h)) : [];
  if (lacking.length) add(`${request.route} is missing hop ${lacking.join(", ")}`);
  if (unexpected.length) add(`${request.route} has unexpected hop ${unexpected.join(", ")}`);
}

function checkErrorPath(
  index: IndexedTrace,
  errorSpans: Span[],
  path: SpanSelector[],
  add: (detail: string) => void,
): void {
  const stray = errorSpans.filter((span) => !path.some((selector) => matchesSelector(index, span, selector)));
  if (stray.length) add(`ERROR off the failure path on ${stray.map(label).join(", ")}`);
  const unmarked = path.filter(
    (s) => s.required !== false && !errorSpans.some((span) => matchesSelector(index, span, s)),
  );
  if (unmarked.length) add(`no ERROR span for ${unmarked.map(describeSelector).join(", ")} of a failed request`);
}
