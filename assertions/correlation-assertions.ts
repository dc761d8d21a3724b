import type { AssertionResult, LogLine, ServiceInfo } from "./evidence";
import { leftOutReason, metricView, spanCode, spanOperation, type Endpoint } from "./metric-view";
import { Findings, notPromised, verdict } from "./result";
import type { RequestView, RunView } from "./run-view";

/** Stable ids of the correlation family. */
export const CORRELATION_ASSERTIONS = {
  logs: "correlation.logs",
  exemplars: "correlation.exemplars",
} as const;

/**
 * Family "correlation": the three signals point at each other. Every request's log lines on every service it
 * crossed carry that request's id, trace id and the id of one of that service's spans in its trace; every exemplar
 * Prometheus stored points at a trace the driver sent, which holds a span of the series' service, side, operation
 * and code. Services whose log the harness does not read, or whose contract names no log keys, are left out of the
 * first; endpoints whose contract names no exemplar label (or that expose no /metrics) of the second; with none
 * left, the claim is not promised.
 */
export function assertCorrelation(view: RunView): AssertionResult[] {
  return [logs(view), exemplars(view)];
}

/** Whether the harness reads a service's structured log and its contract names the keys to correlate it by. */
function logsPromised(view: RunView, service: ServiceInfo | undefined): boolean {
  return service !== undefined && service.structuredLog !== false && view.contract(service).logs !== undefined;
}

/** The request a log line belongs to: its request-id key, or its trace id where the contract names no request id. */
function lineKey(view: RunView, service: string): (line: LogLine) => unknown {
  const keys = view.contract(service).logs!;
  return (line) => line[keys.requestId ?? keys.traceId];
}

function requestKey(view: RunView, service: string, r: RequestView): string {
  return view.contract(service).logs!.requestId === undefined ? r.traceId : r.request.id;
}

function logs(view: RunView): AssertionResult {
  const findings = new Findings();
  const id = CORRELATION_ASSERTIONS.logs;
  const promised = new Set(view.evidence.services.filter((s) => logsPromised(view, s)).map((s) => s.name));
  if (promised.size === 0) {
    const noKeys = view.evidence.services.filter((s) => s.structuredLog !== false && !view.contract(s).logs);
    return notPromised(
      id,
      "correlation",
      noKeys.length
        ? `no service declares a readable structured log (services.<name>.logFile) with log keys in its contract (contract logs: ${noKeys.map((s) => s.name).join(", ")})`
        : "no service declares a readable structured log (services.<name>.logFile)",
    );
  }
  const byRequest = new Map<string, Map<string, LogLine[]>>();
  for (const [service, lines] of Object.entries(view.evidence.logs)) {
    if (!promised.has(service)) continue;
    const key = lineKey(view, service);
    const index = new Map<string, LogLine[]>();
    for (const line of lines) {
      const id = key(line);
      if (typeof id !== "string") continue;
      const list = index.get(id);
      if (list) list.push(line);
      else index.set(id, [line]);
    }
    byRequest.set(service, index);
  }
  let compared = 0;
  let expectedPairs = 0;
  let lines = 0;
  for (const r of view.requests) {
    if (!r.sampled || !r.trace) {
      if (r.sampled && !r.traceOptional)
        expectedPairs +=
          r.expected?.filter((s) => s.kind === "server" && s.required && promised.has(s.service)).length ?? 1;
      continue;
    }
    const crossed = new Set(
      (r.expected
        ? r.expected.filter((s) => s.kind === "server" && s.required).map((s) => s.service)
        : r.placed.filter((p) => p.span.kind === "server").map((p) => p.span.service)
      ).filter((s) => promised.has(s)),
    );
    expectedPairs += crossed.size;
    for (const service of crossed) {
      const keys = view.contract(service).logs!;
      const own = byRequest.get(service)?.get(requestKey(view, service, r)) ?? [];
      const spanIds = new Set(r.trace.trace.spans.filter((s) => s.service === service).map((s) => s.spanId));
      const at = { traceId: r.traceId, requestId: r.request.id };
      compared++;
      lines += own.length;
      if (own.length === 0) {
        findings.add({
          ...at,
          detail: `${service} wrote no log line with ${keys.requestId ?? keys.traceId}="${requestKey(view, service, r)}"`,
        });
        continue;
      }
      for (const line of own) {
        const traceId = line[keys.traceId];
        const spanId = line[keys.spanId];
        if (traceId !== r.traceId)
          findings.add({
            ...at,
            detail: `${service} log line "${line.msg ?? ""}" has ${keys.traceId} ${JSON.stringify(traceId)}, the request's trace is ${r.traceId}`,
          });
        else if (typeof spanId !== "string" || !spanIds.has(spanId))
          findings.add({
            ...at,
            detail: `${service} log line "${line.msg ?? ""}" has ${keys.spanId} ${JSON.stringify(spanId)}, not a span of ${service} in the trace`,
          });
      }
    }
  }
  return verdict(
    CORRELATION_ASSERTIONS.logs,
    "correlation",
    findings,
    {
      passed: `every request's log lines (${lines}) on every service it crossed carry its request id, trace id and a span id of that service`,
      failed: "log lines do not point at their request's trace",
    },
    {
      compared,
      minimum: expectedPairs,
      what: "request x service pairs",
      because: "the services each sampled request crossed",
    },
    { perPair: ">= 1 line, each with the request's trace id and a span id of the service" },
    { lines },
  );
}

function exemplars(view: RunView): AssertionResult {
  const metrics = metricView(view);
  const findings = new Findings();
  const id = CORRELATION_ASSERTIONS.exemplars;
  const judgeable = metrics.judgeable(["histogram", "peers"]);
  const leftOut: Record<string, string> = { ...judgeable.leftOut };
  const endpoints = judgeable.endpoints.filter((e) => {
    const contract = view.contract(e.service);
    if (contract.exemplarTraceIdLabel !== undefined) return true;
    leftOut[`${e.service.name} ${e.protocol} ${e.side}`] =
      `contract "${contract.name}" names no exemplar trace-id label (exemplarTraceIdLabel)`;
    return false;
  });
  if (endpoints.length === 0 && Object.keys(leftOut).length)
    return notPromised(id, "correlation", leftOutReason("no endpoint promises exemplars", leftOut), { leftOut });
  const byHistogram = new Map<string, Endpoint>();
  for (const e of endpoints) byHistogram.set(`${e.service.instance}|${metrics.histogram(e)!.name}_bucket`, e);
  const traced = new Map(view.requests.filter((r) => r.trace).map((r) => [r.traceId, r]));
  const withExemplar = new Set<Endpoint>();
  let compared = 0;
  for (const exemplar of view.evidence.metrics.exemplars) {
    const service = view.evidence.services.find(
      (s) => s.instance !== "" && exemplar.labels[view.contract(s).labels.instance] === s.instance,
    );
    const e = service && byHistogram.get(`${service.instance}|${exemplar.name}`);
    // An exemplar of a series lacking a key is the series', left out with it (hygiene.contract-labels names it).
    if (!e || metrics.lacksKeys(e, "histogram", exemplar.labels)) continue;
    compared++;
    withExemplar.add(e);
    const operation = metrics.operationOf(e, exemplar.labels);
    const code = metrics.codeOf(e, exemplar.labels);
    const where = `${e.service.name} ${exemplar.name}{${operation}, ${code}}`;
    const r = traced.get(exemplar.traceId);
    if (!r) {
      findings.add({
        traceId: exemplar.traceId,
        detail: `${where} has an exemplar pointing at trace ${exemplar.traceId}, which no request of the run has`,
        service: e.service.name,
        side: e.side,
      });
      continue;
    }
    const match = r.placed.some(
      (p) =>
        p.span.service === e.service.name &&
        p.span.kind === e.side &&
        spanCode(view, e, p.span) === code &&
        spanOperation(view, p) === operation,
    );
    // The call's span may have died unexported with its killed process: nothing to point at.
    if (!match && !r.unexported.has(e.service.name))
      findings.add({
        traceId: exemplar.traceId,
        requestId: r.request.id,
        detail: `${where} has an exemplar pointing at a trace with no ${e.side} span of ${e.service.name} for ${operation} answering ${code}`,
        expected: `a ${e.side} span of ${e.service.name} for ${operation} answering ${code}`,
        observed: "none in the trace it points at",
        on: `an exemplar of ${where}`,
        service: e.service.name,
        side: e.side,
      });
  }
  for (const e of endpoints)
    if (!withExemplar.has(e))
      findings.add({ detail: `${e.service.name} ${metrics.histogram(e)!.name} has no exemplar for the run's calls` });
  return verdict(
    id,
    "correlation",
    findings,
    {
      passed: `every exemplar points at a trace of the run with a span of its series' service, operation and code`,
      failed: "exemplars do not point at their calls' traces",
    },
    {
      compared,
      minimum: endpoints.length,
      what: "exemplars",
      because: "one per endpoint whose contract promises exemplars",
    },
    { perExemplar: "trace of the run, span of the series' service, side, operation and code" },
    {
      exemplars: view.evidence.metrics.exemplars.length,
      endpointsWithExemplar: withExemplar.size,
      ...(Object.keys(leftOut).length ? { leftOut } : {}),
    },
  );
}
