import { binomialAcceptance } from "./binomial";
import type { MetricContract, TelemetryContract } from "./contract";
import { DEFAULT_CONTRACT } from "./contract";
import type { AssertionResult, Evidence, FaultRecord, MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_EXCLUDED_ROUTES } from "./expectations";
import type { ErrorLayer, Expectations } from "./expectations";
import { delta, deltaBy, disagreements, labelsOf, nonZero, ofService, select, seriesKey } from "./metric-query";
import type { Labels, Selector } from "./metric-query";
import { Findings, verdict } from "./result";
import { isSuccess } from "./trace-assertions";

/** Stable ids of the metrics family. */
export const METRIC_ASSERTIONS = {
  edgeStatusCounts: "metrics.edge-status-counts",
  hopAgreement: "metrics.hop-agreement",
  histogramCount: "metrics.histogram-count",
  statusLabels: "metrics.status-labels",
  errorRate: "metrics.error-rate",
  latencyShift: "metrics.latency-shift",
} as const;

/** The snapshot label the harness stores in `metrics.at` when a fault is applied or reverted. */
export function faultSnapshotKey(faultId: string, edge: "applied" | "reverted"): string {
  return `fault:${faultId}:${edge}`;
}

/** A service fault's target: "payments.Charge" -> payments, Charge; "orders.POST /orders" -> orders, POST /orders. */
export function parseServiceTarget(target: string): { service: string; method?: string } {
  const dot = target.indexOf(".");
  return dot < 0 ? { service: target } : { service: target.slice(0, dot), method: target.slice(dot + 1) };
}

type Side = "server" | "client";

/** Reads one run's metrics through the contract: counters per service and side, with codes and probe routes. */
class MeshMetrics {
  readonly labels;
  readonly excluded: Set<string>;

  constructor(
    readonly evidence: Evidence,
    readonly contract: TelemetryContract,
    excludeRoutes: readonly string[],
  ) {
    this.labels = labelsOf(contract);
    this.excluded = new Set(excludeRoutes);
  }

  service(name: string): ServiceInfo | undefined {
    return this.evidence.services.find((s) => s.name === name);
  }

  counter(protocol: string, side: Side): MetricContract {
    const c = this.contract;
    if (protocol === "grpc") return side === "server" ? c.grpcServerHandled : c.grpcClientHandled;
    return side === "server" ? c.httpServerRequests : c.httpClientRequests;
  }

  histogram(protocol: string, side: Side): MetricContract {
    const c = this.contract;
    if (protocol === "grpc") return side === "server" ? c.grpcServerHandling : c.grpcClientHandling;
    return side === "server" ? c.httpServerDuration : c.httpClientDuration;
  }

  codeKey(protocol: string): string {
    return protocol === "grpc" ? this.labels.grpcCode : this.labels.httpStatusCode;
  }

  /** Selector of a service's counter (or histogram part) on one side; HTTP server probe routes left out. */
  select(service: ServiceInfo, name: string, protocol: string, side: Side, where: Labels = {}): Selector {
    const routeKey = this.labels.httpRoute;
    const exclude =
      protocol === "http" && side === "server" ? (l: Labels) => this.excluded.has(l[routeKey] ?? "") : undefined;
    return ofService(this.contract, service, name, where, exclude);
  }

  /** Filter labels for a service fault's method: a gRPC method name, or an HTTP "METHOD /route". */
  methodWhere(protocol: string, method: string | undefined): Labels {
    if (method === undefined) return {};
    if (protocol === "grpc") return { [this.labels.grpcMethod]: method };
    const [verb = "", route = ""] = method.split(" ");
    return { [this.labels.httpMethod]: verb, [this.labels.httpRoute]: route };
  }

  runDelta(selector: Selector, by: readonly string[]): Map<string, number> {
    return deltaBy(this.evidence.metrics.start, this.evidence.metrics.end, selector, by);
  }

  snapshot(fault: FaultRecord, edge: "applied" | "reverted"): MetricSample[] | undefined {
    return this.evidence.metrics.at[faultSnapshotKey(fault.id, edge)];
  }
}

/**
 * Family "metrics": counters reconcile with ground truth. Exact where the system is deterministic (edge status counts
 * vs the driver, client vs server of every hop, histogram counts vs counters, error codes per the mapping table),
 * statistical with a stated binomial bound where it is random (error rate), and windowed for injected latency.
 */
export function assertMetrics(
  evidence: Evidence,
  expectations: Expectations,
  contract: TelemetryContract = DEFAULT_CONTRACT,
): AssertionResult[] {
  const options = expectations.metrics ?? {};
  const mesh = new MeshMetrics(evidence, contract, options.excludeRoutes ?? DEFAULT_EXCLUDED_ROUTES);
  // Fault-specific assertions are judged only when the run had such a fault: a pass over nothing is no evidence.
  const has = (kind: string) => evidence.faults.some((f) => f.kind === kind);
  return [
    edgeStatusCounts(mesh),
    hopAgreement(mesh, expectations),
    histogramCount(mesh),
    ...(options.errorSurfaces?.length ? [statusLabels(mesh, expectations)] : []),
    ...(has("error") ? [errorRate(mesh, options.confidence ?? 0.999)] : []),
    ...(has("latency") ? [latencyShift(mesh, expectations)] : []),
  ];
}

function edgeStatusCounts(mesh: MeshMetrics): AssertionResult {
  const { evidence, labels } = mesh;
  const edge = evidence.services.find((s) => s.role === "edge");
  const findings = new Findings();
  const driver = new Map<string, number>();
  let noResponse = 0;
  for (const r of evidence.requests) {
    if (r.status === 0) {
      noResponse++;
      continue;
    }
    const [method = "", route = ""] = r.route.split(" ");
    const key = `${method}|${route}|${r.status}`;
    driver.set(key, (driver.get(key) ?? 0) + 1);
  }
  let counted = new Map<string, number>();
  if (!edge) findings.add({ detail: "no service has the edge role" });
  else {
    const name = mesh.contract.httpServerRequests.name;
    counted = mesh.runDelta(mesh.select(edge, name, "http", "server"), [
      labels.httpMethod,
      labels.httpRoute,
      labels.httpStatusCode,
    ]);
    for (const d of disagreements(driver, counted)) {
      const [method, route, status] = d.key.split("|");
      const sample = evidence.requests.find((r) => r.route === `${method} ${route}` && String(r.status) === status);
      findings.add({
        detail: `${method} ${route} ${status}: driver saw ${d.a}, ${edge.name} ${name} rose by ${d.b}`,
        traceId: sample?.traceId,
        requestId: sample?.id,
      });
    }
  }
  return verdict(
    METRIC_ASSERTIONS.edgeStatusCounts,
    "metrics",
    findings,
    {
      passed: `${edge?.name} status counts equal the driver's ${evidence.requests.length - noResponse} responses per route and code`,
      failed: `${edge?.name} status counts differ from the driver's`,
    },
    { driver: nonZero(driver), noResponse },
    { counter: nonZero(counted) },
  );
}

/** Every hop's server side agrees with its callers' client side per code; an error fault's counter agrees too. */
function hopAgreement(mesh: MeshMetrics, expectations: Expectations): AssertionResult {
  const { evidence, labels, contract } = mesh;
  const findings = new Findings();
  const observed: Record<string, { server: Record<string, number>; client: Record<string, number> }> = {};
  const hops = Object.values(expectations.topology).flat();
  const servers = [...new Set(hops.filter((h) => h.protocol !== "redis").map((h) => `${h.to}|${h.protocol}`))];
  for (const entry of servers) {
    const [to = "", protocol = ""] = entry.split("|");
    const server = mesh.service(to);
    if (!server) {
      findings.add({ detail: `hop target ${to} is not a service of the run` });
      continue;
    }
    const callers = [...new Set(hops.filter((h) => h.to === to && h.protocol === protocol).map((h) => h.from))];
    const serverName = mesh.counter(protocol, "server").name;
    const clientName = mesh.counter(protocol, "client").name;
    let by: string[];
    let clientWhere: (caller: string) => Selector | undefined;
    if (protocol === "grpc") {
      by = [labels.grpcService, labels.grpcMethod, labels.grpcCode];
      // Clients call several servers: keep the client series of the gRPC services this server answers for.
      const served = new Set(
        select(evidence.metrics.end, ofService(contract, server, serverName)).map((s) => s.labels[labels.grpcService]),
      );
      clientWhere = (caller) => {
        const service = mesh.service(caller);
        return service && ofService(contract, service, clientName, {}, (l) => !served.has(l[labels.grpcService]));
      };
    } else {
      by = [labels.httpMethod, labels.httpStatusCode];
      clientWhere = (caller) => {
        const service = mesh.service(caller);
        return service && ofService(contract, service, clientName, { [labels.peerService]: to });
      };
    }
    const serverCounts = mesh.runDelta(mesh.select(server, serverName, protocol, "server"), by);
    const clientCounts = new Map<string, number>();
    for (const caller of callers) {
      const selector = clientWhere(caller);
      if (!selector) {
        findings.add({ detail: `caller ${caller} of ${to} is not a service of the run` });
        continue;
      }
      for (const [key, value] of mesh.runDelta(selector, by))
        clientCounts.set(key, (clientCounts.get(key) ?? 0) + value);
    }
    const hop = `${callers.join("+")} -> ${to} (${protocol})`;
    observed[hop] = { server: nonZero(serverCounts), client: nonZero(clientCounts) };
    for (const d of disagreements(serverCounts, clientCounts))
      findings.add({
        detail: `${hop} ${d.key}: ${to} ${serverName} +${d.a}, ${callers.join("+")} ${clientName} +${d.b}`,
      });
  }
  for (const fault of evidence.faults.filter((f) => f.kind === "error")) {
    const { service: name, method } = parseServiceTarget(fault.target);
    const service = mesh.service(name);
    const code = errorCodeOf(fault);
    if (!service || code === undefined) continue;
    const injected = delta(
      evidence.metrics.start,
      evidence.metrics.end,
      ofService(contract, service, contract.faultsInjected.name, { [labels.faultKind]: fault.kind }),
    );
    const where = { ...mesh.methodWhere(service.protocol, method), [mesh.codeKey(service.protocol)]: code };
    const answered = delta(
      evidence.metrics.start,
      evidence.metrics.end,
      mesh.select(service, mesh.counter(service.protocol, "server").name, service.protocol, "server", where),
    );
    observed[`fault ${fault.target}`] = { server: { [code]: answered }, client: { injected } };
    if (injected !== answered)
      findings.add({
        detail: `${fault.target}: ${contract.faultsInjected.name} +${injected} but ${name} answered ${code} ${answered} times`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.hopAgreement,
    "metrics",
    findings,
    {
      passed: `client and server counters agree per code on ${servers.length} hop targets`,
      failed: "hop counters disagree",
    },
    { agreement: "server delta == client delta per label set" },
    observed,
  );
}

function histogramCount(mesh: MeshMetrics): AssertionResult {
  const { evidence } = mesh;
  const findings = new Findings();
  let compared = 0;
  for (const service of evidence.services)
    for (const protocol of ["http", "grpc"])
      for (const side of ["server", "client"] as const) {
        const counter = mesh.counter(protocol, side).name;
        const histogram = `${mesh.histogram(protocol, side).name}_count`;
        const series = (name: string) =>
          new Map(
            select(evidence.metrics.end, ofService(mesh.contract, service, name)).map((s) => [
              seriesKey(s.labels),
              s.value,
            ]),
          );
        const counts = series(counter);
        const histogramCounts = series(histogram);
        compared += counts.size;
        for (const d of disagreements(counts, histogramCounts))
          findings.add({ detail: `${service.name} {${d.key}}: ${counter} ${d.a}, ${histogram} ${d.b}` });
      }
  return verdict(
    METRIC_ASSERTIONS.histogramCount,
    "metrics",
    findings,
    {
      passed: `${compared} counter series equal their duration histogram's _count`,
      failed: "histogram counts differ from their counters",
    },
    { equal: true },
    { series: compared, differing: findings.count },
  );
}

function layerSelector(
  mesh: MeshMetrics,
  service: ServiceInfo,
  layer: Pick<ErrorLayer, "metric" | "peer" | "method">,
): Selector & { protocol: string } {
  const protocol = layer.metric.startsWith("grpc") ? "grpc" : "http";
  const side: Side = layer.metric.endsWith("Server") ? "server" : "client";
  const where: Labels = {
    ...(layer.peer !== undefined ? { [mesh.labels.peerService]: layer.peer } : {}),
    ...(layer.method !== undefined && protocol === "grpc" ? { [mesh.labels.grpcMethod]: layer.method } : {}),
  };
  return { ...mesh.select(service, mesh.counter(protocol, side).name, protocol, side, where), protocol };
}

function isErrorCode(protocol: string, code: string): boolean {
  return protocol === "grpc" ? code !== "OK" : Number(code) >= 500;
}

/**
 * Errors carry the code of the mapping table at every layer, as many as the driver saw fail in the fault's window;
 * no counter anywhere rises on an error code the table does not give (a generic 500, UNKNOWN).
 */
function statusLabels(mesh: MeshMetrics, expectations: Expectations): AssertionResult {
  const { evidence } = mesh;
  const findings = new Findings();
  const surfaces = expectations.metrics?.errorSurfaces ?? [];
  const observed: Record<string, unknown> = {};
  const allowed = new Set<string>();
  for (const surface of surfaces) {
    const faults = evidence.faults.filter((f) => f.target === surface.fault);
    if (!faults.length) findings.add({ detail: `no fault on ${surface.fault} in the fault journal` });
    const failed = evidence.requests.filter(
      (r) =>
        r.status !== 0 &&
        !isSuccess(r.status) &&
        faults.some((f) => r.endMs >= f.appliedAtMs && r.startMs <= (f.revertedAtMs ?? evidence.window.endMs)),
    );
    for (const layer of surface.layers) {
      allowed.add(`${layer.service}|${layer.metric}|${layer.code}`);
      const service = mesh.service(layer.service);
      if (!service) {
        findings.add({ detail: `layer service ${layer.service} is not a service of the run` });
        continue;
      }
      const selector = layerSelector(mesh, service, layer);
      const byCode = mesh.runDelta(selector, [mesh.codeKey(selector.protocol)]);
      const got = byCode.get(layer.code) ?? 0;
      const where = `${layer.service} ${selector.name}${layer.peer ? ` to ${layer.peer}` : ""}${layer.method ? ` ${layer.method}` : ""}`;
      observed[`${where} ${layer.code}`] = got;
      if (got !== failed.length)
        findings.add({
          detail: `${where} rose by ${got} on ${layer.code}, expected ${failed.length} (the driver's failures during ${surface.fault}); by code: ${JSON.stringify(nonZero(byCode))}`,
          traceId: failed[0]?.traceId,
          requestId: failed[0]?.id,
        });
    }
  }
  for (const service of evidence.services)
    for (const metric of ["httpServer", "httpClient", "grpcServer", "grpcClient"] as const) {
      const selector = layerSelector(mesh, service, { metric });
      for (const [code, value] of mesh.runDelta(selector, [mesh.codeKey(selector.protocol)]))
        if (value > 0 && isErrorCode(selector.protocol, code) && !allowed.has(`${service.name}|${metric}|${code}`))
          findings.add({
            detail: `${service.name} ${selector.name} rose by ${value} on ${code}, which the error mapping does not give`,
          });
    }
  return verdict(
    METRIC_ASSERTIONS.statusLabels,
    "metrics",
    findings,
    {
      passed: `every error carries its mapped code (${[...allowed].join(", ") || "no errors expected"})`,
      failed: "error codes do not follow the mapping",
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
 * The error rate of the faulted method matches the injected rate within an exact binomial acceptance interval.
 * Errors are counted over the whole run (they only occur in the window: exact); calls between the snapshots at
 * apply and revert (each the last scrape before its instant, so the window keeps its length at a constant rate).
 */
function errorRate(mesh: MeshMetrics, confidence: number): AssertionResult {
  const { evidence } = mesh;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const statements: string[] = [];
  for (const fault of evidence.faults.filter((f) => f.kind === "error")) {
    const rate = Number(fault.params.rate);
    const code = errorCodeOf(fault);
    const { service: name, method } = parseServiceTarget(fault.target);
    const service = mesh.service(name);
    const from = mesh.snapshot(fault, "applied");
    const to = mesh.snapshot(fault, "reverted");
    if (!service || code === undefined || !(rate > 0)) {
      findings.add({ detail: `${fault.target}: cannot judge (service, code or rate missing)` });
      continue;
    }
    if (!from || !to) {
      findings.add({
        detail: `${fault.target}: metrics.at lacks ${faultSnapshotKey(fault.id, from ? "reverted" : "applied")}`,
      });
      continue;
    }
    const protocol = service.protocol;
    const selector = mesh.select(
      service,
      mesh.counter(protocol, "server").name,
      protocol,
      "server",
      mesh.methodWhere(protocol, method),
    );
    const calls = delta(from, to, selector);
    const errors = mesh.runDelta(selector, [mesh.codeKey(protocol)]).get(code) ?? 0;
    const { low, high } = binomialAcceptance(calls, rate, confidence);
    const share = calls ? errors / calls : 0;
    const statement = `${fault.target}: ${errors} ${code} of ${calls} calls (${(share * 100).toFixed(1)}%) in the fault window; injected ${(rate * 100).toFixed(1)}%, ${confidence * 100}% binomial acceptance [${low}, ${high}] of ${calls}`;
    statements.push(statement);
    observed[fault.target] = { calls, errors, share, acceptance: [low, high] };
    if (calls === 0) findings.add({ detail: `${fault.target}: no calls in the fault window` });
    else if (errors < low || errors > high) findings.add({ detail: statement });
  }
  return verdict(
    METRIC_ASSERTIONS.errorRate,
    "metrics",
    findings,
    { passed: statements.join("; "), failed: "error rate outside its binomial bound" },
    { confidence },
    observed,
  );
}

/**
 * An injected latency moves the faulted method's duration histogram above the delay during the fault, and only then.
 * Slow calls are counted over the whole run and compared to the calls in the snapshot window; the edges of that
 * window are blurred by one scrape interval plus the delay, so that many calls are tolerated there.
 */
function latencyShift(mesh: MeshMetrics, expectations: Expectations): AssertionResult {
  const { evidence } = mesh;
  const options = expectations.metrics ?? {};
  const side = options.latencySide ?? "server";
  const scrapeIntervalMs = options.scrapeIntervalMs ?? 1000;
  const noiseShare = options.noiseShare ?? 0.02;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const statements: string[] = [];
  for (const fault of evidence.faults.filter((f) => f.kind === "latency")) {
    const delayMs = Number(fault.params.ms) - Number(fault.params.jitterMs ?? 0);
    const { service: name, method } = parseServiceTarget(fault.target);
    const target = mesh.service(name);
    const from = mesh.snapshot(fault, "applied");
    const to = mesh.snapshot(fault, "reverted");
    if (!target || !from || !to) {
      findings.add({
        detail: `${fault.target}: cannot judge (${target ? "metrics.at lacks the fault's snapshots" : "unknown service"})`,
      });
      continue;
    }
    const protocol = target.protocol;
    const sideServices =
      side === "server"
        ? [target]
        : [
            ...new Set(
              Object.values(expectations.topology)
                .flat()
                .filter((h) => h.to === name)
                .map((h) => h.from),
            ),
          ]
            .map((n) => mesh.service(n))
            .filter((s): s is ServiceInfo => s !== undefined);
    const histogram = mesh.histogram(protocol, side).name;
    const where = mesh.methodWhere(protocol, method);
    const total = (a: MetricSample[], b: MetricSample[], suffix: string, extra: Labels = {}) =>
      sideServices.reduce(
        (sum, s) => sum + delta(a, b, mesh.select(s, `${histogram}${suffix}`, protocol, side, { ...where, ...extra })),
        0,
      );
    const bounds = [
      ...new Set(select(evidence.metrics.end, { name: `${histogram}_bucket` }).map((s) => Number(s.labels.le))),
    ];
    const le = Math.max(...bounds.filter((b) => b <= delayMs / 1000));
    if (!Number.isFinite(le)) {
      findings.add({ detail: `${fault.target}: ${histogram} has no bucket at or below ${delayMs} ms` });
      continue;
    }
    const leLabel = { le: String(le) };
    const slow = (a: MetricSample[], b: MetricSample[]) => total(a, b, "_count") - total(a, b, "_bucket", leLabel);
    const { start, end } = evidence.metrics;
    const before = { slow: slow(start, from), calls: total(start, from, "_count") };
    const window = { slow: slow(from, to), calls: total(from, to, "_count") };
    const after = { slow: slow(to, end), calls: total(to, end, "_count") };
    const runSlow = before.slow + window.slow + after.slow;
    const runCalls = before.calls + window.calls + after.calls;
    const windowMs = Math.max(1, evidence.window.endMs - evidence.window.startMs);
    const edgeCalls = Math.ceil((runCalls / windowMs) * (scrapeIntervalMs + delayMs));
    const noise = (calls: number) => Math.ceil(noiseShare * calls);
    observed[fault.target] = { thresholdSeconds: le, before, window, after, edgeCalls };
    statements.push(
      `${fault.target}: ${runSlow} calls above ${le} s over the run vs ${window.calls} in the fault window (tolerance ${edgeCalls}); before ${before.slow}/${before.calls}, after ${after.slow}/${after.calls}`,
    );
    if (window.calls === 0) findings.add({ detail: `${fault.target}: no calls in the fault window` });
    if (Math.abs(runSlow - window.calls) > edgeCalls + noise(runCalls))
      findings.add({
        detail: `${fault.target}: ${runSlow} calls above ${le} s but ${window.calls} calls in the fault window (tolerance ${edgeCalls + noise(runCalls)})`,
      });
    if (before.slow > noise(before.calls))
      findings.add({
        detail: `${fault.target}: ${before.slow} of ${before.calls} calls above ${le} s before the fault`,
      });
    if (after.slow > edgeCalls + noise(after.calls))
      findings.add({
        detail: `${fault.target}: ${after.slow} of ${after.calls} calls above ${le} s after the revert (tolerance ${edgeCalls + noise(after.calls)})`,
      });
  }
  return verdict(
    METRIC_ASSERTIONS.latencyShift,
    "metrics",
    findings,
    {
      passed: statements.join("; "),
      failed: "duration histogram does not shift with the fault window",
    },
    { side, scrapeIntervalMs, noiseShare },
    observed,
  );
}
