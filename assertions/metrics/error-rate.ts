import { faultSignature } from "../faults";
import { BINOMIAL_CONFIDENCE, binomialAcceptance } from "../binomial";
import type { AssertionResult, FaultRecord, ServiceInfo } from "../evidence";
import { delta, sum } from "../metric-query";
import { hasMetrics, type Endpoint, type MetricView } from "../metric-view";
import { Findings, verdict } from "../result";
import type { RequestView, RunView } from "../run-view";
import { requestFaultSite } from "../faults";
import { heldUntil } from "../trace-shape";
import { METRIC_ASSERTIONS } from "./ids";

/** What the error faults add up to as they are judged. */
interface RateTallies {
  findings: Findings;
  observed: Record<string, unknown>;
  statements: string[];
}

/** An error fault that can be judged: the service it fails, the code it answers, the share it fails. */
interface ErrorFault {
  fault: FaultRecord;
  service: ServiceInfo;
  method: string | undefined;
  code: string;
  rate: number;
  /** Answered in front of the service (an L7 proxy): its caller records the failures, the service never sees them. */
  caller?: ServiceInfo;
}

/** The failures of one error fault as each record counts them; `counter` is why not, when it cannot be read. */
interface Recorded {
  traces: number;
  counter: number | { notPromised: string };
  ownRecord: number | undefined;
}

function errorCodeOf(fault: FaultRecord): string | undefined {
  const { grpcCode, httpStatus } = fault.params;
  return grpcCode !== undefined ? String(grpcCode) : httpStatus !== undefined ? String(httpStatus) : undefined;
}

/**
 * The error rate of a faulted method, counted from harness records: the driver's requests that reached the faulted
 * hop during the fault, and those of them the fault failed. The rate is judged against the injected one with an
 * exact binomial acceptance interval; the traces and the service's own counter must count exactly the same failures
 * (and the service's record of faults it injected, when it keeps one, is a cross-check only). A service without a
 * server counter to read (no /metrics) is judged on the driver and the traces; its counter is not promised.
 */
export function errorRate(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const confidence = view.expectations.metrics?.confidence ?? BINOMIAL_CONFIDENCE;
  const tallies: RateTallies = { findings: new Findings(), observed: {}, statements: [] };
  let compared = 0;
  const faults = view.evidence.faults.filter((f) => faultSignature(f.kind).errorRate);
  for (const fault of faults) {
    const judged = errorFault(view, fault);
    if (!judged) tallies.findings.add({ detail: `${fault.target}: cannot judge (service, code or rate missing)` });
    else compared += judgeErrorFault(metrics, judged, confidence, tallies);
  }
  return verdict(
    METRIC_ASSERTIONS.errorRate,
    "metrics",
    tallies.findings,
    {
      passed: tallies.statements.join("; "),
      failed: "error rate off its binomial bound, or failures counted differently",
    },
    { compared, minimum: faults.length, what: "calls in fault windows", because: `${faults.length} error fault(s)` },
    { confidence, source: "driver (ground truth); traces and server counter must match it" },
    tallies.observed,
  );
}

/** The fault's service, code and rate; undefined when one is missing. */
function errorFault(view: RunView, fault: FaultRecord): ErrorFault | undefined {
  const rate = Number(fault.params.rate);
  const code = errorCodeOf(fault);
  const site = requestFaultSite(fault, view.plannedHops());
  const service = view.service(site.service);
  const caller = site.caller === undefined ? undefined : view.service(site.caller);
  if (!service || code === undefined || !(rate > 0) || (fault.via === "l7" && !caller)) return undefined;
  return { fault, service, method: site.method, code, rate, ...(caller ? { caller } : {}) };
}

/** The driver's failures in the fault window against the binomial bound, then against traces and counters. */
function judgeErrorFault(metrics: MetricView, judged: ErrorFault, confidence: number, tallies: RateTallies): number {
  const { fault, rate } = judged;
  const { findings } = tallies;
  const calls = callsReachingFault(metrics.view, judged);
  const errors = calls.filter((r) => r.explanation?.fault === fault);
  const { low, high } = binomialAcceptance(calls.length, rate, confidence);
  const share = calls.length ? errors.length / calls.length : 0;
  const statement = `${fault.target}: the driver's ${errors.length} failures of ${calls.length} calls in the fault window (${(share * 100).toFixed(1)}%); injected ${(rate * 100).toFixed(1)}%, ${confidence * 100}% binomial acceptance [${low}, ${high}]`;
  tallies.statements.push(statement);
  if (calls.length === 0) findings.add({ detail: `${fault.target}: no request reached it during the fault` });
  else if (errors.length < low || errors.length > high) findings.add({ detail: statement });
  const recorded = recordedFailures(metrics, judged, errors);
  if (typeof recorded.counter !== "number")
    tallies.statements.push(`${fault.target}: server counter not promised (${recorded.counter.notPromised})`);
  tallies.observed[fault.target] = {
    driver: { calls: calls.length, failures: errors.length, share, acceptance: [low, high] },
    traces: recorded.traces,
    counter: recorded.counter,
    ...(recorded.ownRecord === undefined ? {} : { serviceOwnRecord: recorded.ownRecord }),
  };
  compareRecords(metrics, judged, errors.length, recorded, findings);
  return calls.length;
}

/** The driver's requests in the fault window that reached the faulted hop (and did not fail before it). */
function callsReachingFault(view: RunView, { fault, service, method }: ErrorFault): RequestView[] {
  const endMs = heldUntil(fault, view.evidence.window.endMs);
  const inWindow = (r: RequestView) => r.request.endMs >= fault.appliedAtMs && r.request.startMs <= endMs;
  const reaches = (r: RequestView) => {
    const index = r.hops.findIndex((h) => h.to === service.name && (!method || h.method === method));
    if (index < 0) return false;
    const failedAt = r.explanation?.hop;
    return failedAt === undefined || failedAt === "edge" ? failedAt === undefined : failedAt >= index;
  };
  return view.requests.filter((r) => inWindow(r) && reaches(r));
}

/**
 * The same failures, as the traces, the service's server counter and its own record of injected faults count them;
 * for a fault answered in front of the service, as its caller's client spans and client counter count them.
 */
function recordedFailures(
  metrics: MetricView,
  { fault, service, method, code, caller }: ErrorFault,
  errors: RequestView[],
): Recorded {
  const { view } = metrics;
  const side = caller ? "client" : "server";
  const traces = errors.filter((r) =>
    r.placed.some(
      (p) =>
        p.span.kind === side &&
        p.span.service === (caller ?? service).name &&
        (!caller || p.peer === service.name) &&
        view.reader.code(p.span) === code &&
        (method === undefined ||
          view.reader.rpcOperation(p.span)?.endsWith(`/${method}`) ||
          view.reader.httpRoute(p.span) === method),
    ),
  ).length;
  const e: Endpoint = { service: caller ?? service, protocol: service.protocol, side };
  const why = metrics.unjudgeable(e, ["counter"]);
  const operation = method === undefined ? undefined : metrics.operation(e, method);
  // A client counter names its peer, not the callee's route: an HTTP caller's failures are those to the service.
  const ofFault = (op: string) =>
    caller && service.protocol === "http"
      ? metrics.peerOf(e, op) === service.name
      : operation === undefined || op.endsWith(operation);
  const counter = why
    ? { notPromised: why }
    : sum(
        [...metrics.counterTally(e)]
          .filter(([k]) => k.endsWith(`|${metrics.code(e, code)}`) && ofFault(k.split("|")[0]!))
          .map(([, v]) => v),
      );
  const contract = metrics.contract(service);
  const ownRecord =
    !caller && contract.faultsInjected && hasMetrics(service)
      ? delta(view.evidence.metrics.start, view.evidence.metrics.end, {
          name: contract.faultsInjected.name,
          where: { [contract.labels.instance]: service.instance, [contract.labels.faultKind!]: fault.kind },
        })
      : undefined;
  return { traces, counter, ownRecord };
}

/** Each record counts exactly the driver's failures. */
function compareRecords(
  metrics: MetricView,
  { fault, service, code, caller }: ErrorFault,
  failures: number,
  recorded: Recorded,
  findings: Findings,
): void {
  if (recorded.traces !== failures)
    findings.add({
      detail: `${fault.target}: the driver saw ${failures} failures, ${recorded.traces} traces show ${caller ? `${caller.name} getting` : `${service.name} answering`} ${code}`,
      expected: `${failures} (the driver's failures)`,
      observed: `${recorded.traces} traces`,
      on: `${caller ? `${caller.name} getting` : `${service.name} answering`} ${code} (fault on ${fault.target})`,
      service: (caller ?? service).name,
    });
  if (typeof recorded.counter === "number" && recorded.counter !== failures)
    findings.add({
      detail: `${fault.target}: the driver saw ${failures} failures, ${caller ? `${caller.name}'s client` : `${service.name}'s server`} counter rose by ${recorded.counter} on ${code}`,
      expected: `${failures} (the driver's failures)`,
      observed: `${recorded.counter}`,
      on: `${caller ? `${caller.name}'s client` : `${service.name}'s server`} counter on ${code} (fault on ${fault.target})`,
      service: (caller ?? service).name,
      side: caller ? "client" : "server",
    });
  if (recorded.ownRecord !== undefined && recorded.ownRecord !== failures)
    findings.add({
      detail: `${fault.target}: the driver saw ${failures} failures, ${service.name}'s own record of faults it injected (${metrics.contract(service).faultsInjected!.name}) says ${recorded.ownRecord}`,
    });
}
