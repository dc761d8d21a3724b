import { faultEffect } from "../faults";
import type { AssertionResult } from "../evidence";
import type { ErrorLayer, ErrorSurface } from "../expectations";
import { nonZero, sum } from "../metric-query";
import { endpointKey, leftOutReason, type Endpoint, type MetricView } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import type { RequestView, RunView } from "../run-view";
import { CALLER_GAVE_UP, isErrorCode } from "./codes";
import { METRIC_ASSERTIONS } from "./ids";
import { rekey } from "./tally";

/** What the error layers of the surfaces add up to as they are judged. */
interface LayerTallies {
  findings: Findings;
  observed: Record<string, unknown>;
  /** "endpoint key|code" of every code the mapping gives. */
  allowed: Set<string>;
  /** Layers whose counter cannot be read (no /metrics, none in the contract), and why. */
  leftOut: Record<string, string>;
}

/**
 * Errors carry the code of the mapping table at every layer, as many as the driver saw fail through that fault; no
 * counter anywhere rises on an error code the table does not give (a generic 500, UNKNOWN). Codes are compared in
 * each counter's form (classes where it labels classes). Not promised when failing faults ran but the mesh declares
 * no error table, or no layer of it has a counter to read.
 */
export function statusLabels(metrics: MetricView): AssertionResult {
  const { view } = metrics;
  const findings = new Findings();
  const surfaces = view.expectations.metrics?.errorSurfaces ?? [];
  const failingFaults = view.evidence.faults.filter((f) => faultEffect(f)?.fails === true);
  const id = METRIC_ASSERTIONS.statusLabels;
  if (surfaces.length === 0 && failingFaults.length)
    return notPromised(
      id,
      "metrics",
      `the mesh declares no error table: services.${view.edge?.name ?? "<edge>"}.errors in its config`,
      { failingFaults: failingFaults.map((f) => f.target) },
    );
  const tallies: LayerTallies = { findings, observed: {}, allowed: new Set<string>(), leftOut: {} };
  let compared = 0;
  for (const surface of surfaces) compared += judgeSurface(metrics, surface, tallies);
  const layers = sum(surfaces.map((s) => s.layers.length));
  const leftOut = Object.keys(tallies.leftOut).length;
  if (layers > 0 && leftOut === layers)
    return notPromised(id, "metrics", leftOutReason("no layer of the error table has a counter", tallies.leftOut), {
      leftOut: tallies.leftOut,
    });
  findUnmappedCodes(metrics, tallies.allowed, findings);
  if (leftOut) tallies.observed.leftOut = tallies.leftOut;
  return verdict(
    METRIC_ASSERTIONS.statusLabels,
    "metrics",
    findings,
    {
      passed: `every error carries its mapped code (${[...tallies.allowed].join(", ")})`,
      failed: "error codes do not follow the mapping",
    },
    {
      compared,
      minimum: Math.max(layers - leftOut, failingFaults.length ? 1 : 0),
      what: "error layers",
      because: `the declared error surfaces of ${failingFaults.length} failing fault(s)`,
    },
    { mapped: [...tallies.allowed] },
    tallies.observed,
  );
}

/** Each layer of one error surface against the driver's failures through its fault; returns the layers judged. */
function judgeSurface(metrics: MetricView, surface: ErrorSurface, tallies: LayerTallies): number {
  const { view } = metrics;
  const failed = view.requests.filter(
    (r) =>
      r.explanation?.fault.target === surface.fault &&
      (surface.route === undefined || r.request.route === surface.route),
  );
  if (!view.evidence.faults.some((f) => f.target === surface.fault)) {
    tallies.findings.add({ detail: `no fault on ${surface.fault} in the fault journal` });
    return 0;
  }
  let compared = 0;
  for (const layer of surface.layers) if (judgeLayer(metrics, surface, layer, failed, tallies)) compared++;
  return compared;
}

/** One layer's counter on its mapped codes: as many as the failures (unless the surface is not exact). */
function judgeLayer(
  metrics: MetricView,
  surface: ErrorSurface,
  layer: ErrorLayer,
  failed: RequestView[],
  tallies: LayerTallies,
): boolean {
  const { findings, observed, allowed } = tallies;
  const e = layerEndpoint(metrics, layer);
  if (!e) {
    findings.add({ detail: `layer service ${layer.service} is not a service of the run` });
    return false;
  }
  const where = `${endpointKey(e)}${layer.peer ? ` to ${layer.peer}` : ""}${layer.method ? ` ${layer.method}` : ""}${layer.route ? ` ${layer.route}` : ""}`;
  const why = metrics.unjudgeable(e, layer.peer === undefined ? ["counter"] : ["counter", "peers"]);
  if (why) {
    tallies.leftOut[`${surface.fault} at ${where}`] = why;
    return false;
  }
  // In the counter's form: a class-labelled counter is judged on the code's class.
  const codes = [
    ...new Set((typeof layer.code === "string" ? [layer.code] : layer.code).map((c) => metrics.code(e, c))),
  ];
  for (const code of codes) allowed.add(`${endpointKey(e)}|${code}`);
  const route = layer.route === undefined ? undefined : metrics.operation(e, layer.route);
  const matches = (operation: string) =>
    (layer.method === undefined || operation.endsWith(`/${layer.method}`)) &&
    (layer.peer === undefined || metrics.peerOf(e, operation) === layer.peer) &&
    (route === undefined || operation === route);
  const byCode = rekey(metrics.counterTally(e), (k) => {
    const [operation = "", code = ""] = k.split("|");
    return matches(operation) ? code : undefined;
  });
  const got = sum(codes.map((code) => byCode.get(code) ?? 0));
  observed[`${where} ${codes.join("|")}`] = got;
  if (surface.exact !== false && got !== failed.length)
    findings.add({
      detail: `${where} rose by ${got} on ${codes.join(" or ")}, expected ${failed.length} (the driver's failures through ${surface.fault}); by code: ${JSON.stringify(nonZero(byCode))}`,
      traceId: failed[0]?.traceId,
      requestId: failed[0]?.request.id,
      expected: `${failed.length} on ${codes.join(" or ")} (the driver's failures)`,
      observed: `${got}${Object.keys(nonZero(byCode)).length ? ` (by code: ${codeList(nonZero(byCode))})` : ""}`,
      on: `${where} ${metrics.counter(e)?.name ?? "counter"}`,
      service: e.service.name,
      side: e.side,
    });
  return true;
}

/** No counter of a planned endpoint rises on an error code the mapping does not give, beyond calls given up on. */
function findUnmappedCodes(metrics: MetricView, allowed: ReadonlySet<string>, findings: Findings): void {
  const abandoned = abandonedAtServer(metrics.view);
  for (const e of metrics.judgeable(["counter"]).endpoints)
    for (const [key, value] of metrics.counterTally(e)) {
      const code = key.split("|")[1] ?? "";
      const seenGivingUp = e.side === "server" ? (abandoned.get(`${e.service.name}|${key}`) ?? 0) : 0;
      if (value > seenGivingUp && isErrorCode(e.protocol, code) && !allowed.has(`${endpointKey(e)}|${code}`))
        findings.add({
          detail: `${endpointKey(e)} ${metrics.counter(e)!.name} rose by ${value} on ${code}, which the error mapping does not give${seenGivingUp ? ` (the traces show ${seenGivingUp} call(s) whose caller gave up first)` : ""}`,
          expected: `no rise on ${code} (the error mapping does not give it)`,
          observed: `${value}`,
          on: `${endpointKey(e)} ${metrics.counter(e)!.name}`,
          service: e.service.name,
          side: e.side,
        });
    }
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

/** "UNAVAILABLE 3, OK 5": counts by code in one line. */
function codeList(byCode: Record<string, number>): string {
  return Object.entries(byCode)
    .map(([code, n]) => `${code} ${n}`)
    .join(", ");
}
