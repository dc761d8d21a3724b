import { faultEffect, faultSignature } from "./faults";
import { BINOMIAL_CONFIDENCE, binomialAcceptance } from "./binomial";
import type { AssertionResult } from "./evidence";
import { Findings, notPromised, verdict, type Coverage, type Finding } from "./result";
import { describeExpected, type PlacedSpan, type RequestView, type RunView } from "./run-view";
import { hopKey, serverChildren } from "./trace-index";
import type { Span } from "./trace-model";
import { spanCountRange } from "./trace-shape";

/** Stable ids of the trace family. */
export const TRACE_ASSERTIONS = {
  complete: "traces.complete",
  singleRoot: "traces.single-root",
  noOrphans: "traces.no-orphans",
  hopGraph: "traces.hop-graph",
  clientServerPairs: "traces.client-server-pairs",
  semconv: "traces.semconv",
  requestId: "traces.request-id",
  edgeStatus: "traces.edge-status",
  noErrorOnSuccess: "traces.no-error-on-success",
  errorPath: "traces.error-path",
  sampling: "traces.sampling",
  spanPipeline: "traces.span-pipeline",
} as const;

type TraceKey = keyof typeof TRACE_ASSERTIONS;
/** What a finding compared, beside its detail (result.ts: Finding). */
type Compared = Omit<Finding, "detail" | "traceId" | "requestId">;
type AddFinding = (key: TraceKey, detail: string, compared?: Compared) => void;

function label(span: Span): string {
  return `${span.service} ${span.kind} span "${span.name}"`;
}

/**
 * Family "traces": every sampled request's trace is there with the spans its route and outcome imply (one root, no
 * orphans, each hop's client and server span, nothing after a failing hop), carries semantic-convention attributes
 * and the request id, records at the edge the status the driver got, and has ERROR exactly on a failure's path.
 * Requests sent unsampled must leave no trace at all.
 */
export function assertTraces(view: RunView): AssertionResult[] {
  const kinds = new Set(view.expectations.traces?.requestIdSpanKinds ?? ["server"]);
  const found = Object.fromEntries(Object.keys(TRACE_ASSERTIONS).map((k) => [k, new Findings()])) as Record<
    TraceKey,
    Findings
  >;
  const missing: Record<string, number> = {};
  for (const r of view.requests) {
    const at = { traceId: r.traceId, requestId: r.request.id };
    judgeRequest(view, r, kinds, missing, (key, detail, compared) => found[key].add({ ...at, ...compared, detail }));
  }
  const results = traceVerdicts(view, found, missing);
  results.push(spanPipeline(view));
  const decided = view.requests.some((r) => r.request.parent !== undefined && r.request.parent !== "sampled");
  if (decided || view.evidence.plan.samplingRatio < 1) results.push(samplingDecisions(view));
  return results;
}

/** Every per-request trace check of one request; `missing` counts the sampled requests without a trace, by reason. */
function judgeRequest(
  view: RunView,
  r: RequestView,
  kinds: ReadonlySet<string>,
  missing: Record<string, number>,
  add: AddFinding,
): void {
  if (!r.sampled) {
    if (r.trace)
      add("complete", `${r.request.route} was sent unsampled but left ${r.trace.trace.spans.length} span(s)`);
    return;
  }
  if (!r.trace) {
    if (r.traceOptional) return;
    missing[r.missing!] = (missing[r.missing!] ?? 0) + 1;
    add("complete", `${r.request.route} has no trace: ${r.missing}`);
    return;
  }
  checkStructure(view, r, add);
  checkShape(r, (d, compared) => add("hopGraph", d, compared));
  checkSpans(view, r, kinds, add);
  checkOutcome(view, r, add);
}

/** The span count the shape implies, one root (the edge server span), no orphans. */
function checkStructure(view: RunView, r: RequestView, add: AddFinding): void {
  const trace = r.trace!;
  const spans = trace.trace.spans;
  if (r.expected) {
    const { min, max } = spanCountRange(r.expected);
    if (spans.length < min || spans.length > max)
      add(
        "complete",
        `${r.request.route} (${r.request.status}${r.explanation ? `, failed at ${r.explanation.fault.target}` : ""}) has ${spans.length} spans, expected ${min === max ? min : `${min}..${max}`}`,
      );
  }
  const root = trace.roots[0];
  if (trace.roots.length !== 1) add("singleRoot", `${trace.roots.length} roots (${trace.roots.map(label).join(", ")})`);
  else if (root && (root.service !== view.edge?.name || root.kind !== "server"))
    add("singleRoot", `root is ${label(root)}, expected the ${view.edge?.name} server span`);
  // A server span whose caller's spans died unexported with the caller's process has lost its parent, not a link.
  const orphans = trace.orphans.filter((o) => {
    const hop = r.placed.find((p) => p.span === o)?.hop;
    return !(typeof hop === "number" && r.unexported.has(r.hops[hop]!.from));
  });
  if (orphans[0])
    add(
      "noOrphans",
      `${orphans.length} orphan(s), e.g. ${label(orphans[0])} whose parent ${orphans[0].parentSpanId} is not in the trace`,
    );
}

/** The edge span's status is the driver's, ERROR only on a failure's path. */
function checkOutcome(view: RunView, r: RequestView, add: AddFinding): void {
  const edgeSpan = r.placed.find((p) => p.hop === "edge")?.span;
  if (r.request.status !== 0) {
    const code = edgeSpan && view.reader.code(edgeSpan);
    if (code !== String(r.request.status))
      add(
        "edgeStatus",
        `the driver got ${r.request.status} but ${edgeSpan ? `the edge server span records ${code ?? "no status"}` : "the trace has no edge server span"}`,
      );
  }
  // A failed attempt the caller retried is an ERROR span of a request that succeeded.
  const retried = new Set(
    r.placed.filter((p) => typeof p.hop === "number" && r.hops[p.hop]?.retried).map((p) => p.span),
  );
  const errors = r.trace!.trace.spans.filter((s) => s.status === "error" && !retried.has(s));
  if (r.success && errors.length)
    add(
      "noErrorOnSuccess",
      `${r.request.route} answered ${r.request.status} but ${errors.map(label).join(", ")} has ERROR status`,
    );
  if (!r.success && r.explanation) checkErrorPath(r, (d) => add("errorPath", d));
}

/** The verdicts of the per-request assertions, each with the coverage its requests imply. */
function traceVerdicts(
  view: RunView,
  found: Record<TraceKey, Findings>,
  missing: Record<string, number>,
): AssertionResult[] {
  const { evidence } = view;
  const id = TRACE_ASSERTIONS;
  // Sampled requests whose trace must exist (an overload's unanswered request may have reached no service).
  const sampled = view.requests.filter((r) => r.sampled && !(r.traceOptional && !r.trace));
  const traced = sampled.filter((r) => r.trace);
  const failedExplained = sampled.filter((r) => !r.success && r.explanation);
  const tracesCoverage = (compared: number, what = "traces"): Coverage => ({
    compared,
    minimum: sampled.length,
    what,
    because: `${sampled.length} sampled requests`,
  });
  const claim = (key: TraceKey, text: string, coverage: Coverage): AssertionResult =>
    verdict(
      id[key],
      "traces",
      found[key],
      { passed: text, failed: `${found[key].count} finding(s)` },
      coverage,
      { findings: 0 },
      { findings: found[key].count },
    );
  const failingFaults = evidence.faults.filter((f) => faultEffect(f)?.fails === true).length;
  const results = [
    completeVerdict(view, found.complete, missing, sampled.length, traced.length),
    claim("singleRoot", "every trace has exactly one root, the edge server span", tracesCoverage(traced.length)),
    claim("noOrphans", "no trace has an orphan span", tracesCoverage(traced.length)),
    claim("hopGraph", "every trace holds its route's hops up to where it failed, and none after", {
      compared: traced.filter((r) => r.expected).length,
      minimum: sampled.filter((r) => r.expected).length,
      what: "traces",
      because: "sampled requests that succeeded or whose failure a fault explains",
    }),
    claim(
      "clientServerPairs",
      "every client span is answered by one server span (none where the call never arrived)",
      tracesCoverage(traced.length),
    ),
    claim("semconv", "every span carries its semantic-convention attributes", tracesCoverage(traced.length)),
    requestIdPromised(view)
      ? claim("requestId", "every server span carries the request id the driver sent", tracesCoverage(traced.length))
      : notPromised(
          id.requestId,
          "traces",
          "no service's contract names a request-id span attribute (contract spans.requestId)",
        ),
    claim("edgeStatus", "every edge server span records the status the driver got", {
      compared: traced.filter((r) => r.request.status !== 0).length,
      minimum: sampled.filter((r) => r.request.status !== 0).length,
      what: "requests",
      because: "sampled requests that got a response",
    }),
    claim("noErrorOnSuccess", "no successful request's trace has an ERROR span", {
      compared: traced.filter((r) => r.success).length,
      minimum: sampled.filter((r) => r.success).length,
      what: "traces",
      because: "successful sampled requests",
    }),
  ];
  if (failingFaults > 0 || failedExplained.length > 0)
    results.push(
      claim("errorPath", "failed requests have ERROR exactly from the failing hop back to the edge", {
        compared: failedExplained.filter((r) => r.trace).length,
        minimum: Math.max(failedExplained.length, failingFaults > 0 ? 1 : 0),
        what: "failed traces",
        because: `${failedExplained.length} failed requests a fault explains${failingFaults ? `, at least one per run with ${failingFaults} failing fault(s)` : ""}`,
      }),
    );
  return results;
}

/** Whether some service's contract promises a request-id span attribute (none does: traces.request-id not promised). */
function requestIdPromised(view: RunView): boolean {
  return view.evidence.services.some((s) => view.contract(s).spans.requestId !== undefined);
}

function completeVerdict(
  view: RunView,
  findings: Findings,
  missing: Record<string, number>,
  sampled: number,
  traced: number,
): AssertionResult {
  const { plan } = view.evidence;
  return verdict(
    TRACE_ASSERTIONS.complete,
    "traces",
    findings,
    {
      passed: `every sampled request's trace holds the spans its route and outcome imply, and unsampled ones left none`,
      failed: `${findings.count} of ${view.requests.length} requests lack their complete trace (${JSON.stringify(missing)})`,
    },
    {
      compared: view.requests.length,
      minimum: plan.requests,
      what: "requests",
      because: `the plan's ${plan.requests} requests`,
    },
    { sampled, traced: sampled },
    { traced, missing },
  );
}

/**
 * Sampling decisions, where the run makes the mesh take some (a root ratio below 1, parents sent unsampled or not
 * at all): the edge answers every request with a W3C `traceresponse` naming the trace it recorded it under; a
 * request sent with a parent stays in the driver's trace and keeps the parent's decision (ParentBased); the share of
 * parentless requests the edge sampled lies in the 99.9% binomial interval of the root ratio. Whether each decision
 * was honoured all the way (a whole trace, or no span anywhere) is traces.complete's part.
 */
function samplingDecisions(view: RunView): AssertionResult {
  const findings = new Findings();
  const ratio = view.evidence.plan.samplingRatio;
  const byParent = { sampled: 0, unsampled: 0, none: 0 };
  let answered = 0;
  let rootsSampled = 0;
  for (const r of view.requests) {
    const parent = r.request.parent ?? "sampled";
    byParent[parent]++;
    const at = { traceId: r.traceId, requestId: r.request.id };
    if (r.request.responseTraceId === undefined || r.request.responseSampled === undefined) {
      findings.add({ ...at, detail: `${r.request.route} (parent ${parent}) was answered without a traceresponse` });
      continue;
    }
    answered++;
    if (parent === "none") {
      if (r.request.responseSampled) rootsSampled++;
      continue;
    }
    if (r.request.responseTraceId !== r.request.traceId)
      findings.add({
        ...at,
        detail: `${r.request.route} was sent in trace ${r.request.traceId} and recorded in ${r.request.responseTraceId}: the parent was dropped`,
      });
    if (r.request.responseSampled !== (parent === "sampled"))
      findings.add({
        ...at,
        detail: `${r.request.route} was sent ${parent} and the edge answered sampled=${r.request.responseSampled ? 1 : 0}: the parent's decision was not kept`,
      });
  }
  const roots = byParent.none;
  const { low, high } = binomialAcceptance(roots, ratio, BINOMIAL_CONFIDENCE);
  if (roots > 0 && (rootsSampled < low || rootsSampled > high))
    findings.add({
      detail: `the edge sampled ${rootsSampled} of ${roots} parentless requests (${((rootsSampled / roots) * 100).toFixed(1)}%), outside the 99.9% interval [${low}, ${high}] of ratio ${ratio}`,
    });
  return verdict(
    TRACE_ASSERTIONS.sampling,
    "traces",
    findings,
    {
      passed: `${answered} requests answered with a traceresponse; parents kept (${byParent.sampled} sampled, ${byParent.unsampled} unsampled); ${rootsSampled} of ${roots} roots sampled, within [${low}, ${high}] for ratio ${ratio}`,
      failed: "the mesh's sampling decisions do not follow the parent and the root ratio",
    },
    {
      compared: answered,
      minimum: view.requests.length,
      what: "requests with a traceresponse",
      because: "every request of a run with sampling decisions",
    },
    { ratio, rootsSampled: [low, high], parentKept: true },
    { byParent, rootsSampled, answered },
  );
}

/**
 * The span pipeline, per service: the spans the store holds for the run's requests against the spans their routes
 * and outcomes imply (the harness's count: at least every required one), and — where the service's SDK reports its
 * counts — ended == exported (nothing dropped in its queue) and exported == stored in the run's traces (nothing
 * lost between exporter and store, and no span put in a trace of its own by a lost context). A loss is named with
 * its size and its place. A service restarted during the run counts again from zero: its SDK side is not compared.
 */
function spanPipeline(view: RunView): AssertionResult {
  const { evidence } = view;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const expected = new Map<string, number>();
  let unknownShapes = 0;
  for (const r of view.requests) {
    if (!r.sampled) continue;
    if (!r.expected) unknownShapes++;
    for (const s of r.expected ?? [])
      if (s.required) expected.set(s.service, (expected.get(s.service) ?? 0) + (s.count?.min ?? 1));
  }
  const stored = new Map<string, number>();
  for (const trace of Object.values(evidence.traces))
    for (const span of trace?.spans ?? []) stored.set(span.service, (stored.get(span.service) ?? 0) + 1);
  const restarted = new Set(evidence.faults.filter((f) => faultSignature(f.kind).newLife).map((f) => f.target));
  let compared = 0;
  for (const service of evidence.services) {
    const name = service.name;
    const least = expected.get(name) ?? 0;
    const held = stored.get(name) ?? 0;
    const sdk = evidence.spanPipeline?.[name];
    const delta =
      sdk && !restarted.has(name)
        ? {
            ended: sdk.after.ended - sdk.before.ended,
            exported: sdk.after.exported - sdk.before.exported,
            exportFailures: sdk.after.exportFailures - sdk.before.exportFailures,
          }
        : undefined;
    observed[name] = { expectedAtLeast: least, stored: held, ...(delta ? { sdk: delta } : {}) };
    if (least > 0 || held > 0) compared++;
    const where = delta
      ? delta.ended > delta.exported
        ? `: its SDK ended ${delta.ended} and exported ${delta.exported} (${delta.ended - delta.exported} dropped before export${delta.exportFailures ? `, ${delta.exportFailures} in failed exports` : ""})`
        : `: its SDK exported all ${delta.exported} it ended, so they were lost between exporter and store, or stored in traces no request of the run has (a lost context)`
      : "";
    if (held < least)
      findings.add({
        detail: `${name}: ${least - held} span(s) missing, ${held} stored of at least ${least}${where}`,
        expected: `at least ${least} spans stored`,
        observed: `${held}`,
        on: `${name}'s spans`,
        service: name,
      });
    else if (delta && delta.ended > delta.exported)
      findings.add({
        detail: `${name}: its SDK dropped ${delta.ended - delta.exported} of ${delta.ended} ended span(s)`,
        expected: `${delta.ended} exported (every span ended)`,
        observed: `${delta.exported}`,
        on: `${name}'s span exporter`,
        service: name,
      });
    else if (delta && delta.exported > held)
      findings.add({
        detail: `${name}: its SDK exported ${delta.exported} span(s), the store holds ${held} of the run's traces`,
        service: name,
      });
  }
  return verdict(
    TRACE_ASSERTIONS.spanPipeline,
    "traces",
    findings,
    {
      passed: `every service's spans reached the store: ${JSON.stringify(observed)}${unknownShapes ? ` (${unknownShapes} traces of unexplained failures left out of the expectation)` : ""}`,
      failed: "spans were lost between the services and the store",
    },
    {
      compared,
      // The services the run's sampled requests reach (a route mix may leave some of the mesh idle), at least one.
      minimum: Math.max(1, evidence.services.filter((s) => (expected.get(s.name) ?? 0) > 0).length),
      what: "services",
      because: "every service the run's requests reach holds spans of them",
    },
    { stored: ">= the spans the routes imply", sdk: "ended == exported == stored" },
    observed,
  );
}

/** Hops: every required expected span is there, and no span sits on a hop the shape does not have. */
function checkShape(r: RequestView, add: (detail: string, compared?: Compared) => void): void {
  const seen = new Map<string, number>();
  for (const p of r.placed) {
    const key = `${p.hop}|${p.span.kind}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (p.hop === undefined) {
      const peer = p.peer ? ` -> ${p.peer}` : "";
      add(`${r.request.route} has ${p.span.service} ${p.span.kind} span${peer} on no hop of the route`);
    }
  }
  if (!r.expected) return;
  const expected = new Set(r.expected.map((s) => `${s.hop}|${s.kind}`));
  for (const s of r.expected) {
    const count = seen.get(`${s.hop}|${s.kind}`) ?? 0;
    const { min, max } = s.count ?? { min: 1, max: 1 };
    const compared = (observed: string, expected: string): Compared => ({
      expected,
      observed,
      on: `the ${describeExpected(s, r.hops)} of a ${r.request.route} trace`,
      service: s.service,
    });
    if (count === 0 && s.required)
      add(`${r.request.route} is missing the ${describeExpected(s, r.hops)}`, compared("none", `${min}`));
    else if (count < min && s.required)
      add(
        `${r.request.route} has ${count} of the ${describeExpected(s, r.hops)}, at least ${min} expected`,
        compared(`${count}`, `at least ${min}`),
      );
    if (count > max)
      add(
        `${r.request.route} has ${count} of the ${describeExpected(s, r.hops)}${max > 1 ? `, at most ${max} expected` : ""}`,
      );
  }
  for (const p of r.placed)
    if (p.hop !== undefined && !expected.has(`${p.hop}|${p.span.kind}`)) {
      const hop = p.hop === "edge" ? undefined : r.hops[p.hop];
      const where = hop ? hopKey(hop.from, hop.to, hop.protocol) : "the edge";
      add(
        `${r.request.route} (${r.request.status}) has a ${p.span.kind} span on ${where}${r.explanation ? `, after it failed at ${r.explanation.fault.target}` : ""}`,
      );
    }
}

/** Per span: client/server pairing, semantic conventions, request id. */
function checkSpans(
  view: RunView,
  r: RequestView,
  kinds: ReadonlySet<string>,
  add: (key: "clientServerPairs" | "semconv" | "requestId", detail: string) => void,
): void {
  const reader = view.reader;
  for (const p of r.placed) {
    const span = p.span;
    const spanClass = reader.spanClass(span);
    if (span.kind === "client" && (spanClass === "http.client" || spanClass === "grpc.client")) {
      const servers = serverChildren(r.trace!, span).length;
      const expected = r.expected?.find((s) => s.kind === "server" && s.hop === p.hop);
      const allowed = expected === undefined ? (r.expected ? [0] : [0, 1]) : expected.required ? [1] : [0, 1];
      if (!allowed.includes(servers))
        add("clientServerPairs", `${label(span)} has ${servers} server children, expected ${allowed.join(" or ")}`);
    }
    if (spanClass) {
      const lacking = reader
        .semconv(span, spanClass)
        .filter((anyOf) => !anyOf.some((k) => span.attributes[k] !== undefined));
      if (lacking.length)
        add("semconv", `${label(span)} (${spanClass}) lacks ${lacking.map((k) => k.join("|")).join(", ")}`);
    } else if (!unpromisedDatastoreSpan(view, r, p)) add("semconv", `${label(span)} has no http, rpc or db attributes`);
    if (!reader.promisesRequestId(span)) continue;
    const requestId = reader.requestId(span);
    if (requestId !== undefined ? requestId !== r.request.id : kinds.has(span.kind)) {
      const key = reader.keys(span).requestId!;
      add(
        "requestId",
        `${label(span)} has ${key} ${requestId === undefined ? "none" : `"${requestId}"`}, the driver sent "${r.request.id}"`,
      );
    }
  }
}

/**
 * A datastore client span reported under a name of its own, where the contract names no db attributes: placed by
 * that name, its attributes are not what the mesh promises.
 */
function unpromisedDatastoreSpan(view: RunView, r: RequestView, p: PlacedSpan): boolean {
  const hop = typeof p.hop === "number" ? r.hops[p.hop] : undefined;
  return hop?.reportedBy === p.span.service && view.reader.keys(p.span).dbSystem === undefined;
}

/** ERROR exactly on the expected spans of a failed request: the failing hop and the way back to the edge. */
function checkErrorPath(r: RequestView, add: (detail: string) => void): void {
  if (!r.expected) return;
  for (const p of r.placed) {
    const expected = r.expected.find((s) => s.hop === p.hop && s.kind === p.span.kind);
    // A failed attempt the caller retried is an ERROR on no path of the failure.
    if (!expected || (typeof p.hop === "number" && r.hops[p.hop]?.retried)) continue;
    const isError = p.span.status === "error";
    if (expected.error !== undefined && isError !== expected.error)
      add(
        `${describeExpected(expected, r.hops)} is ${isError ? "ERROR" : "not ERROR"} but the failure at ${r.explanation!.fault.target} ${expected.error ? "passed through it" : "did not pass through it"}`,
      );
  }
}
