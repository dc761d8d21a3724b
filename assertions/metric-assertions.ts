import { binomialAcceptance } from "./binomial";
import type { AssertionResult, FaultRecord } from "./evidence";
import type { ErrorLayer } from "./expectations";
import { delta, disagreements, nonZero, sum } from "./metric-query";
import type { MetricView } from "./metric-view";
import {
  endpointKey,
  metricView,
  spanOperation,
  tallySpans,
  type Endpoint,
  type Protocol,
  type Tally,
} from "./metric-view";
import { Findings, verdict } from "./result";
import { NO_RESPONSE, serverChildren } from "./trace-index";
import type { PlacedSpan, RequestView, RunView } from "./run-view";
import { failingServerSpan, faultLocation, FAULT_EFFECTS, heldUntil } from "./trace-shape";

/** Stable ids of the metrics family. */
export const METRIC_ASSERTIONS = {
  edgeStatusCounts: "metrics.edge-status-counts",
  hopAgreement: "metrics.hop-agreement",
  spanCounterAgreement: "metrics.span-counter-agreement",
  histogramCount: "metrics.histogram-count",
  statusLabels: "metrics.status-labels",
  unexplainedFailures: "metrics.unexplained-failures",
  errorRate: "metrics.error-rate",
  latencyShift: "metrics.latency-shift",
} as const;

/**
 * Family "metrics": counters reconcile with ground truth and with the traces. Exact where the system is deterministic
 * (edge status counts vs the driver, client vs server of every hop, spans vs counters per operation and code,
 * histogram counts vs counters, error codes per the mapping table, every failure explained by a journaled fault),
 * statistical with a stated binomial bound where it is random (error rate), and windowed for injected latency.
 */
export function assertMetrics(view: RunView): AssertionResult[] {
  const metrics = metricView(view);
  const has = (kind: string) => view.evidence.faults.some((f) => f.kind === kind);
  const surfaces = view.expectations.metrics?.errorSurfaces ?? [];
  return [
    unexplainedFailures(view),
    edgeStatusCounts(metrics),
    hopAgreement(metrics),
    spanCounterAgreement(metrics),
    histogramCount(metrics),
    ...(surfaces.length || view.evidence.faults.some((f) => FAULT_EFFECTS[f.kind]?.fails)
      ? [statusLabels(metrics)]
      : []),
    ...(has("error") ? [errorRate(metrics)] : []),
    ...(has("latency") || has("link-latency") ? [latencyShift(metrics)] : []),
  ];
}

/** Every response that is not its route's success falls in the window of a journaled fault on its route. */
function unexplainedFailures(view: RunView): AssertionResult {
  const findings = new Findings();
  const explained: Record<string, number> = {};
  let failed = 0;
  for (const r of view.requests) {
    if (r.success) continue;
    failed++;
    if (r.explanation) {
      explained[r.explanation.fault.target] = (explained[r.explanation.fault.target] ?? 0) + 1;
      continue;
    }
    findings.add({
      detail: `${r.request.route} answered ${r.request.status || `nothing (${r.request.error ?? "no response"})`} at +${Math.round(r.request.startMs - view.evidence.window.startMs)} ms with no journaled fault on its route in that window`,
      traceId: r.traceId,
      requestId: r.request.id,
    });
  }
  const plan = view.evidence.plan.requests;
  return verdict(
    METRIC_ASSERTIONS.unexplainedFailures,
    "metrics",
    findings,
    {
      passed: `${failed} failed responses are each explained by a journaled fault on their route (${JSON.stringify(explained)})`,
      failed: `${findings.count} of ${failed} failed responses have no fault to explain them`,
    },
    { compared: view.requests.length, minimum: plan, what: "requests", because: `the plan's ${plan} requests` },
    { unexplained: 0 },
    { failed, explained, unexplained: findings.count },
  );
}

function driverTally(requests: readonly RequestView[]): Tally {
  const out: Tally = new Map();
  for (const { request } of requests)
    if (request.status !== 0) {
      const key = `${request.route}|${request.status}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  return out;
}

/** The edge's server counter rose per route and status exactly as the driver's responses say. */
function edgeStatusCounts(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const driver = driverTally(view.requests);
  let counted: Tally = new Map();
  const edge = view.edge;
  if (!edge) findings.add({ detail: "no service has the edge role" });
  else {
    const e: Endpoint = { service: edge, protocol: "http", side: "server" };
    counted = metrics.counterTally(e);
    // A request the driver got no answer for (it gave up, or the connection broke) may be counted by the edge under
    // whatever it answered too late: per route, the counts above the driver's add up to at most those requests.
    const unanswered = new Map<string, number>();
    for (const r of view.requests)
      if (r.request.status === 0) unanswered.set(r.request.route, (unanswered.get(r.request.route) ?? 0) + 1);
    const extra = new Map<string, number>();
    for (const d of disagreements(driver, counted)) {
      const route = d.key.slice(0, d.key.lastIndexOf("|"));
      if (d.b > d.a && (unanswered.get(route) ?? 0) > 0) {
        extra.set(route, (extra.get(route) ?? 0) + d.b - d.a);
        continue;
      }
      const sample = view.requests.find((r) => `${r.request.route}|${r.request.status}` === d.key);
      findings.add({
        detail: `${d.key.replace("|", " ")}: driver saw ${d.a}, ${edge.name} ${metrics.counter(e).name} rose by ${d.b}`,
        traceId: sample?.traceId,
        requestId: sample?.request.id,
      });
    }
    for (const [route, n] of extra)
      if (n > (unanswered.get(route) ?? 0))
        findings.add({
          detail: `${route}: ${edge.name} ${metrics.counter(e).name} counted ${n} more answers than the driver got, and the driver went without an answer only ${unanswered.get(route)} times`,
        });
  }
  const responses = sum(driver.values());
  const noResponse = view.requests.length - responses;
  const minimum = view.evidence.plan.requests - noResponse;
  return verdict(
    METRIC_ASSERTIONS.edgeStatusCounts,
    "metrics",
    findings,
    {
      passed: `${edge?.name} status counts equal the driver's responses per route and code`,
      failed: `${edge?.name} status counts differ from the driver's`,
    },
    {
      compared: responses,
      minimum,
      what: "responses",
      because: `the plan's requests less ${noResponse} without response`,
    },
    { driver: nonZero(driver), noResponse },
    { counter: nonZero(counted) },
  );
}

/** For HTTP hops both sides key by "METHOD|code"; for gRPC by "pkg.Service/Method|code". */
function hopKeyOf(protocol: string, key: string): string {
  if (protocol === "grpc") return key;
  const [operation = "", code = ""] = key.split("|");
  return `${operation.split(" ")[0]}|${code}`;
}

function rekey(tally: Tally, fn: (key: string) => string | undefined): Tally {
  const out: Tally = new Map();
  for (const [key, value] of tally) {
    const k = fn(key);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + value);
  }
  return out;
}

/** Every hop's server side agrees with its callers' client side per operation and code, and carried calls. */
function hopAgreement(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const observed: Record<string, { server: Record<string, number>; client: Record<string, number> }> = {};
  const hops = view.plannedHops().filter((h) => h.protocol === "http" || h.protocol === "grpc");
  const targets = [...new Set(hops.map((h) => `${h.to}|${h.protocol}`))];
  let compared = 0;
  for (const target of targets) {
    const [to = "", protocolName = ""] = target.split("|");
    const protocol = protocolName === "grpc" ? "grpc" : "http";
    const server = view.service(to);
    const callers = [...new Set(hops.filter((h) => h.to === to && h.protocol === protocol).map((h) => h.from))];
    const hop = `${callers.join("+")} -> ${to} (${protocol})`;
    if (!server) {
      findings.add({ detail: `${hop}: ${to} is not a service of the run` });
      continue;
    }
    const serverTally = rekey(metrics.counterTally({ service: server, protocol, side: "server" }), (k) =>
      hopKeyOf(protocol, k),
    );
    const served = new Set([...serverTally.keys()].map((k) => k.split("|")[0]));
    const clientTally: Tally = new Map();
    for (const name of callers) {
      const caller = view.service(name);
      if (!caller) {
        findings.add({ detail: `${hop}: caller ${name} is not a service of the run` });
        continue;
      }
      const tally = rekey(metrics.counterTally({ service: caller, protocol, side: "client" }), (k) => {
        const operation = k.split("|")[0] ?? "";
        if (protocol === "grpc") return served.has(operation) ? k : undefined;
        return operation.endsWith(` ${to}`) ? hopKeyOf(protocol, k) : undefined;
      });
      for (const [k, v] of tally) clientTally.set(k, (clientTally.get(k) ?? 0) + v);
    }
    const calls = sum(serverTally.values());
    if (calls === 0 && sum(clientTally.values()) === 0) {
      findings.add({ detail: `${hop}: no call counted on either side, but the plan's routes take this hop` });
      continue;
    }
    compared++;
    // Calls the server never saw (a link down, a dead server) or answered differently than its caller recorded (a
    // frozen server finishing after the caller's deadline): the traces say which, and the server's tally is moved
    // by them before the comparison, so only unexplained disagreement remains.
    const moved = unseenByServer(metrics, to, protocol);
    const adjusted = new Map(serverTally);
    for (const [k, v] of moved.tally) adjusted.set(k, (adjusted.get(k) ?? 0) + v);
    observed[hop] = {
      server: nonZero(serverTally),
      client: nonZero(clientTally),
      ...(moved.calls ? { movedByTraces: nonZero(moved.tally) } : {}),
    };
    // A failed request left no trace when it was not sampled: what its calls on this hop did is unknown, and the
    // client may have counted that many calls its server never saw. A call whose spans on either side may have died
    // with a killed process, under way as its counters were last read, may be in either side's count or not.
    const onHop = (r: RequestView) => r.hops.filter((h) => h.to === to && h.protocol === protocol);
    const untraced = view.requests.filter((r) => !r.sampled && !r.success && onHop(r).length).length;
    const lost = sum(
      view.requests.map((r) => onHop(r).filter((h) => r.unexported.has(h.from) || r.unexported.has(h.to)).length),
    );
    for (const d of disagreements(adjusted, clientTally))
      if (d.a > d.b + lost || d.b - d.a > untraced + lost)
        findings.add({
          detail: `${hop} ${d.key}: server counted ${serverTally.get(d.key) ?? 0}${moved.calls ? ` (${d.a} with the ${moved.calls} calls the traces show it did not answer as its caller saw)` : ""}, client counted ${d.b}`,
        });
  }
  return verdict(
    METRIC_ASSERTIONS.hopAgreement,
    "metrics",
    findings,
    { passed: "client and server counters agree per operation and code on every hop", failed: "hop counters disagree" },
    { compared, minimum: targets.length, what: "hop targets", because: "the hops of the planned routes" },
    { agreement: "server delta == client delta per operation and code" },
    observed,
  );
}

/**
 * From the traces, the calls on a hop to `to` that its server did not count as its caller did: per hop key, +1 for
 * the client's code, -1 for the server's (when the server answered at all).
 */
function unseenByServer(metrics: MetricView, to: string, protocol: "http" | "grpc"): { tally: Tally; calls: number } {
  return metrics.view.traceMemo(`unseen by ${to} (${protocol})`, () => computeUnseen(metrics.view, to, protocol));
}

function computeUnseen(view: RunView, to: string, protocol: "http" | "grpc"): { tally: Tally; calls: number } {
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
      // A server may answer differently only when its caller gave up on its own (a deadline, a cancel, no answer
      // within its timeout: a frozen server finishing late, an answer in flight when the deadline fired), or when
      // the fault that failed the call at this hop may have let it reach the server and lost its answer (a reset
      // link, a call under way when the fault was applied); a server that says OK where its caller got a server's
      // error otherwise is a telemetry mistake, not moved.
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

/**
 * Per "service|operation|code" of a gRPC server: the calls whose server span records its caller's giving up
 * (CANCELLED, DEADLINE_EXCEEDED) under a client span that gave up first. A server frozen past its callers' deadlines
 * may count them so (grpc-go does): a code the mapping need not give, as many times as the traces show.
 */
function abandonedAtServer(view: RunView): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of view.requests) {
    if (!r.trace) continue;
    for (const p of r.placed) {
      if (p.span.kind !== "server" || view.reader.protocol(p.span) !== "grpc") continue;
      const code = view.reader.code(p.span) ?? "";
      if (code !== "CANCELLED" && code !== "DEADLINE_EXCEEDED") continue;
      const parent = p.span.parentSpanId === undefined ? undefined : r.trace.byId.get(p.span.parentSpanId);
      if (parent?.kind !== "client" || !CALLER_GAVE_UP.has(view.reader.code(parent) ?? "")) continue;
      const key = `${p.span.service}|${view.reader.rpcOperation(p.span)}|${code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** Client-side codes of a call its caller abandoned itself (gRPC deadline or cancel; HTTP: no response). */
const CALLER_GAVE_UP = new Set(["DEADLINE_EXCEEDED", "CANCELLED", NO_RESPONSE]);

/**
 * The calls at an endpoint whose spans the traces cannot hold: those the unsampled requests can have made, and those
 * whose spans at the endpoint's service may have died unexported with it (a kill), by their routes' hops (an upper
 * bound: a failed request made only the calls up to where it failed), all of them and those of failed requests.
 */
function untracedCalls(view: RunView, e: Endpoint): { any: number; failing: number } {
  let any = 0;
  let failing = 0;
  for (const r of view.requests) {
    if (r.sampled && !r.unexported.has(e.service.name)) continue;
    const atEdge = e.side === "server" && e.protocol === "http" && e.service.name === view.edge?.name ? 1 : 0;
    const calls =
      atEdge +
      r.hops.filter((h) => h.protocol === e.protocol && (e.side === "client" ? h.from : h.to) === e.service.name)
        .length;
    any += calls;
    if (!r.success) failing += calls;
  }
  return { any, failing };
}

/**
 * Spans and counters agree per endpoint, operation and code: the trace side of the three-way reconciliation. With
 * calls the traces cannot hold at an endpoint (unsampled requests', spans that died with a killed process) the spans
 * record a subset: spans <= counter per operation and code, and the counter holds no more than the spans plus those
 * calls (an error code: of those that failed).
 */
function spanCounterAgreement(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const spans = tallySpans(metrics).counts;
  const endpoints = metrics.plannedEndpoints();
  const observed: Record<string, unknown> = {};
  let compared = 0;
  const untraced = view.requests.filter((r) => !r.sampled || r.unexported.size).length;
  for (const e of endpoints) {
    const key = endpointKey(e);
    const counted = metrics.counterTally(e);
    const traced = spans.get(key) ?? new Map<string, number>();
    observed[key] = { spans: nonZero(traced), counter: nonZero(counted) };
    if (sum(traced.values()) === 0 && sum(counted.values()) === 0) {
      findings.add({ detail: `${key}: neither a span nor a counted call, but the plan's routes cross it` });
      continue;
    }
    compared++;
    const name = metrics.counter(e).name;
    const most = untracedCalls(view, e);
    for (const d of disagreements(traced, counted))
      if (most.any === 0 || d.a > d.b)
        findings.add({ detail: `${key} ${d.key}: ${d.a} span(s) but ${name} rose by ${d.b}` });
    if (most.any === 0) continue;
    const [spanTotal, counterTotal] = [sum(traced.values()), sum(counted.values())];
    if (counterTotal > spanTotal + most.any)
      findings.add({
        detail: `${key}: ${name} rose by ${counterTotal}, more than its ${spanTotal} span(s) + ${most.any} call(s) the traces cannot hold (unsampled, or spans lost with a killed process)`,
      });
    for (const [k, n] of counted) {
      const code = k.split("|").at(-1) ?? "";
      if (isErrorCode(e.protocol, code) && n > (traced.get(k) ?? 0) + most.failing)
        findings.add({
          detail: `${key} ${k}: ${name} rose by ${n}, more than its ${traced.get(k) ?? 0} span(s) + ${most.failing} call(s) of failed requests the traces cannot hold`,
        });
    }
  }
  return verdict(
    METRIC_ASSERTIONS.spanCounterAgreement,
    "metrics",
    findings,
    {
      passed: `spans and counters agree per operation and code on every endpoint${untraced ? ` (${untraced} requests unsampled or with spans lost with a killed process: spans <= counters where they call)` : ""}`,
      failed: "spans and counters disagree",
    },
    { compared, minimum: endpoints.length, what: "endpoints", because: "the endpoints the planned routes cross" },
    { agreement: "spans by status-code attribute == counter delta by code label" },
    observed,
  );
}

/** Every counter series equals its duration histogram's _count (both rose by the same calls). */
function histogramCount(metrics: MetricView): AssertionResult {
  const findings = new Findings();
  const endpoints = metrics.plannedEndpoints();
  let compared = 0;
  for (const e of endpoints) {
    const counts = metrics.counterTally(e);
    const histogramCounts = metrics.histogramTally(e, "_count");
    if (sum(counts.values()) > 0) compared++;
    for (const d of disagreements(counts, histogramCounts))
      findings.add({
        detail: `${endpointKey(e)} ${d.key}: ${metrics.counter(e).name} rose by ${d.a}, ${metrics.histogram(e).name}_count by ${d.b}`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.histogramCount,
    "metrics",
    findings,
    {
      passed: "every counter rose exactly as its duration histogram's _count",
      failed: "histogram counts differ from their counters",
    },
    {
      compared,
      minimum: endpoints.length,
      what: "endpoints with calls",
      because: "the endpoints the planned routes cross",
    },
    { equal: true },
    { differing: findings.count },
  );
}

function layerEndpoint(metrics: MetricView, layer: ErrorLayer): Endpoint | undefined {
  const service = metrics.view.service(layer.service);
  if (!service) return undefined;
  return {
    service,
    protocol: layer.metric.startsWith("grpc") ? "grpc" : "http",
    side: layer.metric.endsWith("Server") ? "server" : "client",
  };
}

function isErrorCode(protocol: string, code: string): boolean {
  return protocol === "grpc" ? code !== "OK" : code === "0" || Number(code) >= 500;
}

/**
 * Errors carry the code of the mapping table at every layer, as many as the driver saw fail through that fault; no
 * counter anywhere rises on an error code the table does not give (a generic 500, UNKNOWN).
 */
function statusLabels(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const surfaces = view.expectations.metrics?.errorSurfaces ?? [];
  const observed: Record<string, unknown> = {};
  const allowed = new Set<string>();
  let compared = 0;
  for (const surface of surfaces) {
    const failed = view.requests.filter(
      (r) =>
        r.explanation?.fault.target === surface.fault &&
        (surface.route === undefined || r.request.route === surface.route),
    );
    if (!view.evidence.faults.some((f) => f.target === surface.fault)) {
      findings.add({ detail: `no fault on ${surface.fault} in the fault journal` });
      continue;
    }
    for (const layer of surface.layers) {
      const e = layerEndpoint(metrics, layer);
      if (!e) {
        findings.add({ detail: `layer service ${layer.service} is not a service of the run` });
        continue;
      }
      const codes = typeof layer.code === "string" ? [layer.code] : layer.code;
      for (const code of codes) allowed.add(`${endpointKey(e)}|${code}`);
      compared++;
      const matches = (operation: string) =>
        (layer.method === undefined || operation.endsWith(`/${layer.method}`)) &&
        (layer.peer === undefined || operation.endsWith(` ${layer.peer}`)) &&
        (layer.route === undefined || operation === layer.route);
      const byCode = rekey(metrics.counterTally(e), (k) => {
        const [operation = "", code = ""] = k.split("|");
        return matches(operation) ? code : undefined;
      });
      const got = sum(codes.map((code) => byCode.get(code) ?? 0));
      const where = `${endpointKey(e)}${layer.peer ? ` to ${layer.peer}` : ""}${layer.method ? ` ${layer.method}` : ""}${layer.route ? ` ${layer.route}` : ""}`;
      observed[`${where} ${codes.join("|")}`] = got;
      if (surface.exact !== false && got !== failed.length)
        findings.add({
          detail: `${where} rose by ${got} on ${codes.join(" or ")}, expected ${failed.length} (the driver's failures through ${surface.fault}); by code: ${JSON.stringify(nonZero(byCode))}`,
          traceId: failed[0]?.traceId,
          requestId: failed[0]?.request.id,
        });
    }
  }
  const abandoned = abandonedAtServer(view);
  for (const e of metrics.plannedEndpoints())
    for (const [key, value] of metrics.counterTally(e)) {
      const code = key.split("|")[1] ?? "";
      const seenGivingUp = e.side === "server" ? (abandoned.get(`${e.service.name}|${key}`) ?? 0) : 0;
      if (value > seenGivingUp && isErrorCode(e.protocol, code) && !allowed.has(`${endpointKey(e)}|${code}`))
        findings.add({
          detail: `${endpointKey(e)} ${metrics.counter(e).name} rose by ${value} on ${code}, which the error mapping does not give${seenGivingUp ? ` (the traces show ${seenGivingUp} call(s) whose caller gave up first)` : ""}`,
        });
    }
  const failingFaults = view.evidence.faults.filter((f) => FAULT_EFFECTS[f.kind]?.fails === true);
  return verdict(
    METRIC_ASSERTIONS.statusLabels,
    "metrics",
    findings,
    {
      passed: `every error carries its mapped code (${[...allowed].join(", ")})`,
      failed: "error codes do not follow the mapping",
    },
    {
      compared,
      minimum: Math.max(sum(surfaces.map((s) => s.layers.length)), failingFaults.length ? 1 : 0),
      what: "error layers",
      because: `the declared error surfaces of ${failingFaults.length} failing fault(s)`,
    },
    { mapped: [...allowed] },
    observed,
  );
}

function errorCodeOf(fault: FaultRecord): string | undefined {
  const { grpcCode, httpStatus } = fault.params;
  return grpcCode !== undefined ? String(grpcCode) : httpStatus !== undefined ? String(httpStatus) : undefined;
}

/**
 * The error rate of a faulted method, counted from harness records: the driver's requests that reached the faulted
 * hop during the fault, and those of them the fault failed. The rate is judged against the injected one with an
 * exact binomial acceptance interval; the traces and the service's own counter must count exactly the same failures
 * (and the service's record of faults it injected, when it keeps one, is a cross-check only).
 */
function errorRate(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const confidence = view.expectations.metrics?.confidence ?? 0.999;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const statements: string[] = [];
  let compared = 0;
  const faults = view.evidence.faults.filter((f) => f.kind === "error");
  for (const fault of faults) {
    const rate = Number(fault.params.rate);
    const code = errorCodeOf(fault);
    const at = faultLocation(fault);
    const service = "service" in at ? view.service(at.service) : undefined;
    if (!service || code === undefined || !(rate > 0)) {
      findings.add({ detail: `${fault.target}: cannot judge (service, code or rate missing)` });
      continue;
    }
    const endMs = heldUntil(fault, view.evidence.window.endMs);
    const inWindow = (r: RequestView) => r.request.endMs >= fault.appliedAtMs && r.request.startMs <= endMs;
    const reaches = (r: RequestView) => {
      const index = r.hops.findIndex(
        (h) => h.to === service.name && (!("method" in at) || !at.method || h.method === at.method),
      );
      if (index < 0) return false;
      const failedAt = r.explanation?.hop;
      return failedAt === undefined || failedAt === "edge" ? failedAt === undefined : failedAt >= index;
    };
    const calls = view.requests.filter((r) => inWindow(r) && reaches(r));
    const errors = calls.filter((r) => r.explanation?.fault === fault);
    compared += calls.length;
    const { low, high } = binomialAcceptance(calls.length, rate, confidence);
    const share = calls.length ? errors.length / calls.length : 0;
    const statement = `${fault.target}: the driver's ${errors.length} failures of ${calls.length} calls in the fault window (${(share * 100).toFixed(1)}%); injected ${(rate * 100).toFixed(1)}%, ${confidence * 100}% binomial acceptance [${low}, ${high}]`;
    statements.push(statement);
    if (calls.length === 0) findings.add({ detail: `${fault.target}: no request reached it during the fault` });
    else if (errors.length < low || errors.length > high) findings.add({ detail: statement });

    // The same failures, as the traces and the service's own counter record them.
    const method = "method" in at ? at.method : undefined;
    const tracedFailures = errors.filter((r) =>
      r.placed.some(
        (p) =>
          p.span.kind === "server" &&
          p.span.service === service.name &&
          view.reader.code(p.span) === code &&
          (method === undefined ||
            view.reader.rpcOperation(p.span)?.endsWith(`/${method}`) ||
            view.reader.httpRoute(p.span) === method),
      ),
    ).length;
    const e: Endpoint = { service, protocol: service.protocol, side: "server" };
    const counted = sum(
      [...metrics.counterTally(e)]
        .filter(([k]) => k.endsWith(`|${code}`) && (method === undefined || k.split("|")[0]!.endsWith(method)))
        .map(([, v]) => v),
    );
    const contract = metrics.contract(service);
    const ownRecord = contract.faultsInjected
      ? delta(view.evidence.metrics.start, view.evidence.metrics.end, {
          name: contract.faultsInjected.name,
          where: { [contract.labels.instance]: service.instance, [contract.labels.faultKind]: fault.kind },
        })
      : undefined;
    observed[fault.target] = {
      driver: { calls: calls.length, failures: errors.length, share, acceptance: [low, high] },
      traces: tracedFailures,
      counter: counted,
      ...(ownRecord === undefined ? {} : { serviceOwnRecord: ownRecord }),
    };
    if (tracedFailures !== errors.length)
      findings.add({
        detail: `${fault.target}: the driver saw ${errors.length} failures, ${tracedFailures} traces show ${service.name} answering ${code}`,
      });
    if (counted !== errors.length)
      findings.add({
        detail: `${fault.target}: the driver saw ${errors.length} failures, ${service.name}'s server counter rose by ${counted} on ${code}`,
      });
    if (ownRecord !== undefined && ownRecord !== errors.length)
      findings.add({
        detail: `${fault.target}: the driver saw ${errors.length} failures, ${service.name}'s own record of faults it injected (${contract.faultsInjected!.name}) says ${ownRecord}`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.errorRate,
    "metrics",
    findings,
    { passed: statements.join("; "), failed: "error rate off its binomial bound, or failures counted differently" },
    { compared, minimum: faults.length, what: "calls in fault windows", because: `${faults.length} error fault(s)` },
    { confidence, source: "driver (ground truth); traces and server counter must match it" },
    observed,
  );
}

/**
 * An injected latency slows the faulted method's calls that started inside the fault window and no others: at least
 * `slowShareInside` of the calls started inside are slow, at most `slowShareOutside` of those outside (from the spans,
 * with the driver's request durations as ground truth); and the duration histogram counts as many slow calls as the
 * spans show. Latency on a link is judged at the caller (its CLIENT spans and client histogram), and the callee's
 * SERVER spans of those calls must stay fast: the time was spent on the wire, and telemetry must say where.
 */
function latencyShift(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const options = view.expectations.metrics ?? {};
  const inside = options.slowShareInside ?? 0.95;
  const outside = options.slowShareOutside ?? 0.05;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const statements: string[] = [];
  let compared = 0;
  let minimum = 0;
  for (const fault of view.evidence.faults.filter((f) => f.kind === "latency" || f.kind === "link-latency")) {
    const delayMs = Number(fault.params.ms) - Number(fault.params.jitterMs ?? 0);
    const slowMs = delayMs * 0.98;
    const at = faultLocation(fault);
    const onLink = "link" in at;
    const service = view.service(onLink ? at.link.from : at.service);
    const hop = onLink ? view.plannedHops().find((h) => h.from === at.link.from && h.to === at.link.to) : undefined;
    if (!service || !(delayMs > 0) || (onLink && (!hop || (hop.protocol !== "http" && hop.protocol !== "grpc")))) {
      findings.add({ detail: `${fault.target}: cannot judge (service, delay or http/grpc hop missing)` });
      continue;
    }
    const method = onLink ? undefined : "method" in at ? at.method : undefined;
    const endMs = heldUntil(fault, view.evidence.window.endMs);
    const ofFault = (p: PlacedSpan) =>
      onLink
        ? p.span.kind === "client" && p.span.service === service.name && p.peer === at.link.to
        : p.span.kind === "server" &&
          p.span.service === service.name &&
          (method === undefined || view.reader.rpcOperation(p.span)?.endsWith(`/${method}`));
    const calls = view.requests.flatMap((r) =>
      r.placed.filter(ofFault).map((p) => ({
        request: r,
        placed: p,
        span: p.span,
        // The callee's server span of the same call (links only).
        server: onLink ? r.placed.find((q) => q.span.kind === "server" && q.hop === p.hop)?.span : undefined,
        startMs: p.span.startTimeUs / 1000,
        ms: p.span.durationUs / 1000,
      })),
    );
    // A link delays the bytes that pass while the toxic is on: a call that started within one delay of either edge
    // of the window may or may not have been slowed, and is judged on neither side.
    const bandMs = onLink ? delayMs : 0;
    const within = calls.filter((c) => c.startMs >= fault.appliedAtMs && c.startMs <= endMs - bandMs);
    const beyond = calls.filter((c) => c.startMs < fault.appliedAtMs - bandMs || c.startMs > endMs);
    const slowWithin = within.filter((c) => c.ms >= slowMs).length;
    const slowBeyond = beyond.filter((c) => c.ms >= slowMs).length;
    const driverSlow = within.filter((c) => c.request.request.endMs - c.request.request.startMs >= slowMs).length;
    compared += calls.length;
    minimum += 1;
    const shareIn = within.length ? slowWithin / within.length : 0;
    const shareOut = beyond.length ? slowBeyond / beyond.length : 0;
    const statement = `${fault.target} +${delayMs} ms: ${slowWithin}/${within.length} ${onLink ? "client " : ""}calls started inside the window slow (${(shareIn * 100).toFixed(1)}%, need >= ${inside * 100}%), ${slowBeyond}/${beyond.length} outside (${(shareOut * 100).toFixed(1)}%, need <= ${outside * 100}%); the driver saw ${driverSlow} of those requests take >= ${slowMs} ms`;
    statements.push(statement);
    if (within.length === 0) findings.add({ detail: `${fault.target}: no call started inside the fault window` });
    else if (shareIn < inside) findings.add({ detail: statement });
    if (shareOut > outside) findings.add({ detail: statement });
    if (driverSlow < within.length * inside)
      findings.add({
        detail: `${fault.target}: only ${driverSlow} of ${within.length} requests took >= ${slowMs} ms at the driver`,
      });
    if (onLink) {
      const servers = within.flatMap((c) => (c.server ? [c.server] : []));
      const slowServers = servers.filter((sp) => sp.durationUs / 1000 >= slowMs).length;
      if (servers.length < within.length * inside || slowServers > servers.length * outside)
        findings.add({
          detail: `${fault.target}: ${slowServers} of the ${servers.length} ${at.link.to} server spans of the slowed calls are slow too (${within.length} calls): the link's latency is put on the server`,
        });
    }

    // The histogram counts the slow calls the spans show: observations above the largest bucket <= the delay.
    const e: Endpoint = {
      service,
      protocol: onLink ? (hop!.protocol as Protocol) : service.protocol,
      side: onLink ? "client" : "server",
    };
    const operations = new Set(onLink ? calls.map((c) => spanOperation(view, c.placed)) : []);
    const mine = (k: string) => {
      const operation = k.split("|")[0] ?? "";
      return onLink ? operations.has(operation) : method === undefined || operation.endsWith(method);
    };
    const buckets = metrics.histogramTally(e, "_bucket");
    const bounds = [...new Set([...buckets.keys()].map((k) => Number(k.split("|")[2])))].filter(
      (le) => le <= delayMs / 1000,
    );
    const le = bounds.length ? Math.max(...bounds) : undefined;
    if (le === undefined) {
      findings.add({ detail: `${fault.target}: ${metrics.histogram(e).name} has no bucket at or below ${delayMs} ms` });
      continue;
    }
    const total = sum([...metrics.histogramTally(e, "_count")].filter(([k]) => mine(k)).map(([, v]) => v));
    const atOrBelow = sum([...buckets].filter(([k]) => mine(k) && Number(k.split("|")[2]) === le).map(([, v]) => v));
    const histogramSlow = total - atOrBelow;
    const spanSlow = calls.filter((c) => c.ms / 1000 > le).length;
    const near = calls.filter((c) => Math.abs(c.ms / 1000 - le) <= Math.max(0.002, le * 0.02)).length;
    observed[fault.target] = {
      slowMs,
      inside: { calls: within.length, slow: slowWithin },
      outside: { calls: beyond.length, slow: slowBeyond },
      driverSlow,
      histogram: { le, above: histogramSlow },
      spansAbove: spanSlow,
    };
    if (Math.abs(histogramSlow - spanSlow) > near)
      findings.add({
        detail: `${fault.target}: ${metrics.histogram(e).name} counts ${histogramSlow} calls above ${le} s, the spans show ${spanSlow} (${near} near the bound)`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.latencyShift,
    "metrics",
    findings,
    { passed: statements.join("; "), failed: "the latency does not follow the fault window" },
    { compared, minimum, what: "calls of faulted methods", because: "the latency faults of the journal" },
    { slowShareInside: inside, slowShareOutside: outside },
    observed,
  );
}
