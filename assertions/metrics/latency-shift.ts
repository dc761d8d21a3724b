import { faultSignature } from "../faults";
import type { AssertionResult, FaultRecord, ServiceInfo } from "../evidence";
import { sum } from "../metric-query";
import { spanOperation, type Endpoint, type MetricView, type Protocol } from "../metric-view";
import { Findings, verdict } from "../result";
import type { PlacedSpan, RequestView, RunView } from "../run-view";
import type { Span } from "../trace-model";
import { requestFaultSite } from "../faults";
import { faultLocation, heldUntil } from "../trace-shape";
import { METRIC_ASSERTIONS } from "./ids";

/** The least share of calls inside the fault window that must be slow, and the most outside it that may be. */
interface SlowShares {
  inside: number;
  outside: number;
}

/** A latency fault that can be judged, and where its calls are timed. */
interface SlowedFault {
  fault: FaultRecord;
  delayMs: number;
  /** The least duration of a slowed call. */
  slowMs: number;
  /** The faulted service; for latency on a link, the caller. */
  service: ServiceInfo;
  /** For latency on a link: the callee (the calls are timed at the caller's client side). */
  callee?: string;
  method?: string;
  endMs: number;
  /** Where the histogram of the faulted calls lives. */
  endpoint: Endpoint;
}

/** One call of the faulted method or link, timed by its span. */
interface TimedCall {
  request: RequestView;
  placed: PlacedSpan;
  span: Span;
  /** The callee's server span of the same call (links only). */
  server?: Span;
  startMs: number;
  ms: number;
}

/**
 * An injected latency slows the faulted method's calls that started inside the fault window and no others: at least
 * `slowShareInside` of the calls started inside are slow, at most `slowShareOutside` of those outside (from the spans,
 * with the driver's request durations as ground truth); and the duration histogram counts as many slow calls as the
 * spans show. Latency on a link is judged at the caller (its CLIENT spans and client histogram), and the callee's
 * SERVER spans of those calls must stay fast: the time was spent on the wire, and telemetry must say where. Where the
 * histogram cannot be read (no /metrics, none in the contract) the windows are judged and the histogram is not
 * promised.
 */
export function latencyShift(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const options = view.expectations.metrics ?? {};
  const shares: SlowShares = { inside: options.slowShareInside ?? 0.95, outside: options.slowShareOutside ?? 0.05 };
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const statements: string[] = [];
  let compared = 0;
  let minimum = 0;
  for (const fault of view.evidence.faults.filter((f) => faultSignature(f.kind).latency)) {
    const slowed = slowedFault(view, fault);
    if (!slowed) {
      findings.add({ detail: `${fault.target}: cannot judge (service, delay or http/grpc hop missing)` });
      continue;
    }
    const calls = timedCalls(view, slowed);
    compared += calls.length;
    minimum += 1;
    const window = judgeWindow(slowed, calls, shares, findings);
    statements.push(window.statement);
    const histogram = judgeHistogram(metrics, slowed, calls, findings);
    if (typeof histogram === "string") statements.push(`${fault.target}: histogram not promised (${histogram})`);
    if (typeof histogram === "string")
      observed[fault.target] = {
        slowMs: slowed.slowMs,
        inside: window.inside,
        outside: window.outside,
        driverSlow: window.driverSlow,
        histogram: `not promised: ${histogram}`,
      };
    else if (histogram)
      observed[fault.target] = {
        slowMs: slowed.slowMs,
        inside: window.inside,
        outside: window.outside,
        driverSlow: window.driverSlow,
        histogram: { le: histogram.le, above: histogram.above },
        spansAbove: histogram.spansAbove,
      };
  }
  return verdict(
    METRIC_ASSERTIONS.latencyShift,
    "metrics",
    findings,
    { passed: statements.join("; "), failed: "the latency does not follow the fault window" },
    { compared, minimum, what: "calls of faulted methods", because: "the latency faults of the journal" },
    { slowShareInside: shares.inside, slowShareOutside: shares.outside },
    observed,
  );
}

/** The fault's delay and where it is timed; undefined without a service, a delay, or an http/grpc hop for a link. */
function slowedFault(view: RunView, fault: FaultRecord): SlowedFault | undefined {
  const delayMs = Number(fault.params.ms) - Number(fault.params.jitterMs ?? 0);
  // A latency injected in front of the callee (an L7 proxy) is spent before the callee sees the call: like a link's.
  const site = requestFaultSite(fault, view.plannedHops());
  const at =
    fault.via === "l7" && site.caller
      ? { link: { from: site.caller, to: site.service }, method: site.method }
      : faultLocation(fault);
  const onLink = "link" in at;
  const service = view.service(onLink ? at.link.from : at.service);
  const hop = onLink ? view.plannedHops().find((h) => h.from === at.link.from && h.to === at.link.to) : undefined;
  if (!service || !(delayMs > 0) || (onLink && (!hop || (hop.protocol !== "http" && hop.protocol !== "grpc"))))
    return undefined;
  return {
    fault,
    delayMs,
    slowMs: delayMs * 0.98,
    service,
    callee: onLink ? at.link.to : undefined,
    method: "method" in at ? at.method : undefined,
    endMs: heldUntil(fault, view.evidence.window.endMs),
    endpoint: {
      service,
      protocol: onLink ? (hop!.protocol as Protocol) : service.protocol,
      side: onLink ? "client" : "server",
    },
  };
}

/**
 * The faulted method's server spans, or for a link the caller's client spans to the callee; not of requests another
 * fault failed (their calls were cut, not slowed).
 */
function timedCalls(view: RunView, { fault, service, callee, method }: SlowedFault): TimedCall[] {
  const onLink = callee !== undefined;
  // A gRPC call names its method; an HTTP one is the hop's only route here.
  const ofMethod = (span: Span) =>
    method === undefined ||
    view.reader.protocol(span) !== "grpc" ||
    view.reader.rpcOperation(span)?.endsWith(`/${method}`) === true;
  const ofFault = (p: PlacedSpan) =>
    onLink
      ? p.span.kind === "client" && p.span.service === service.name && p.peer === callee && ofMethod(p.span)
      : p.span.kind === "server" && p.span.service === service.name && ofMethod(p.span);
  const failedElsewhere = (r: RequestView) => r.explanation !== undefined && r.explanation.fault !== fault;
  return view.requests.flatMap((r) =>
    (failedElsewhere(r) ? [] : r.placed.filter(ofFault)).map((p) => ({
      request: r,
      placed: p,
      span: p.span,
      server: onLink ? r.placed.find((q) => q.span.kind === "server" && q.hop === p.hop)?.span : undefined,
      startMs: p.span.startTimeUs / 1000,
      ms: p.span.durationUs / 1000,
    })),
  );
}

/** Slow calls inside the window, fast ones outside, per the spans and the driver; for a link, fast callee spans. */
function judgeWindow(slowed: SlowedFault, calls: TimedCall[], shares: SlowShares, findings: Findings) {
  const { fault, delayMs, slowMs, endMs, callee } = slowed;
  const { inside, outside } = shares;
  // A link delays the bytes that pass while the toxic is on: a call that started within one delay of either edge
  // of the window may or may not have been slowed, and is judged on neither side. Nor is one that started while the
  // fault was being applied (a call 1 ms after an L7 fault's applied-at was not slowed: the fault reached the proxy later).
  const bandMs = callee !== undefined ? delayMs : 0;
  const inPlaceAtMs = fault.inPlaceAtMs ?? fault.appliedAtMs;
  const within = calls.filter((c) => c.startMs >= inPlaceAtMs && c.startMs <= endMs - bandMs);
  const beyond = calls.filter((c) => c.startMs < fault.appliedAtMs - bandMs || c.startMs > endMs);
  // A call takes its own time plus the delay (one that takes 300 ms by itself is not slowed by 300 ms at 300 ms).
  // On a link, its own time is its server span's: the delay is what its client span adds. On a method, the calls
  // outside the window tell its own time: slow is past the fastest of them plus the delay, less their spread (the
  // median's distance from the fastest), since a slowed call may have been faster by itself than any outside.
  const delayed = (c: TimedCall) => (callee !== undefined && c.server ? c.ms - c.server.durationUs / 1000 : c.ms);
  const own = beyond.map(delayed);
  const slowAt = callee !== undefined ? slowMs : fastest(own) + slowMs - (median(own) - fastest(own));
  const slowWithin = within.filter((c) => delayed(c) >= slowAt).length;
  const slowBeyond = beyond.filter((c) => delayed(c) >= slowAt).length;
  const driverSlow = within.filter((c) => c.request.request.endMs - c.request.request.startMs >= slowMs).length;
  const shareIn = within.length ? slowWithin / within.length : 0;
  const shareOut = beyond.length ? slowBeyond / beyond.length : 0;
  const statement = `${fault.target} +${delayMs} ms: ${slowWithin}/${within.length} ${callee !== undefined ? "client " : ""}calls started inside the window slow (${callee !== undefined ? "client span >= its server span + " : ">= "}${round(slowAt)} ms; ${(shareIn * 100).toFixed(1)}%, need >= ${inside * 100}%), ${slowBeyond}/${beyond.length} outside (${(shareOut * 100).toFixed(1)}%, need <= ${outside * 100}%); the driver saw ${driverSlow} of those requests take >= ${slowMs} ms`;
  if (within.length === 0) findings.add({ detail: `${fault.target}: no call started inside the fault window` });
  else if (shareIn < inside) findings.add({ detail: statement });
  if (shareOut > outside) findings.add({ detail: statement });
  if (driverSlow < within.length * inside)
    findings.add({
      detail: `${fault.target}: only ${driverSlow} of ${within.length} requests took >= ${slowMs} ms at the driver`,
    });
  if (callee !== undefined) {
    const servers = within.flatMap((c) => (c.server ? [c.server] : []));
    const serverSlowAt = fastest(beyond.flatMap((c) => (c.server ? [c.server.durationUs / 1000] : []))) + slowMs;
    const slowServers = servers.filter((sp) => sp.durationUs / 1000 >= serverSlowAt).length;
    // A missing server span is the traces family's finding; here, none at all leaves the wire unjudged.
    if ((within.length > 0 && servers.length === 0) || slowServers > servers.length * outside)
      findings.add({
        detail: `${fault.target}: ${slowServers} of the ${servers.length} ${callee} server spans of the slowed calls are slow too (${within.length} calls): the link's latency is put on the server`,
      });
  }
  return {
    statement,
    inside: { calls: within.length, slow: slowWithin },
    outside: { calls: beyond.length, slow: slowBeyond },
    driverSlow,
  };
}

/** The shortest of some durations (ms); 0 when there are none. */
function fastest(durations: readonly number[]): number {
  return durations.length ? Math.min(...durations) : 0;
}

/** The median of some durations (ms); 0 when there are none. */
function median(durations: readonly number[]): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 0;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The histogram counts the slow calls the spans show: observations above the largest bucket <= the delay. Undefined
 * when the histogram has no such bucket; why not, when there is no histogram to read.
 */
function judgeHistogram(metrics: MetricView, slowed: SlowedFault, calls: TimedCall[], findings: Findings) {
  const { view } = metrics;
  const { fault, delayMs, callee, method, endpoint: e } = slowed;
  const onLink = callee !== undefined;
  const why = metrics.unjudgeable(e, onLink && e.protocol === "http" ? ["histogram", "peers"] : ["histogram"]);
  if (why) return why;
  const name = metrics.histogram(e)!.name;
  const operations = new Set(onLink ? calls.map((c) => spanOperation(view, c.placed)) : []);
  const faulted = method === undefined ? undefined : metrics.operation(e, method);
  const mine = (k: string) => {
    const operation = k.split("|")[0] ?? "";
    return onLink ? operations.has(operation) : faulted === undefined || operation.endsWith(faulted);
  };
  const buckets = metrics.histogramTally(e, "_bucket");
  const bounds = [...new Set([...buckets.keys()].map((k) => Number(k.split("|")[2])))].filter(
    (le) => le <= delayMs / 1000,
  );
  const le = bounds.length ? Math.max(...bounds) : undefined;
  if (le === undefined) {
    findings.add({ detail: `${fault.target}: ${name} has no bucket at or below ${delayMs} ms` });
    return undefined;
  }
  const total = sum([...metrics.histogramTally(e, "_count")].filter(([k]) => mine(k)).map(([, v]) => v));
  const atOrBelow = sum([...buckets].filter(([k]) => mine(k) && Number(k.split("|")[2]) === le).map(([, v]) => v));
  const histogramSlow = total - atOrBelow;
  const spanSlow = calls.filter((c) => c.ms / 1000 > le).length;
  const near = calls.filter((c) => Math.abs(c.ms / 1000 - le) <= Math.max(0.002, le * 0.02)).length;
  if (Math.abs(histogramSlow - spanSlow) > near)
    findings.add({
      detail: `${fault.target}: ${name} counts ${histogramSlow} calls above ${le} s, the spans show ${spanSlow} (${near} near the bound)`,
    });
  return { le, above: histogramSlow, spansAbove: spanSlow };
}
