import { DEFAULT_CONTRACT, type TelemetryContract } from "./contract";
import type { Evidence, FaultRecord, MetricSeries, RequestRecord, ServiceInfo } from "./evidence";
import { DEFAULT_EXCLUDED_ROUTES, type Topology } from "./expectations";
import { indexTrace, serverChildren, SpanReader, type IndexedTrace } from "./trace-index";
import type { Span } from "./trace-model";
import { FAULT_EFFECTS, faultLocation, isSuccess } from "./trace-shape";

/**
 * Root-cause localisation: where did the time or the errors come from, judged from the evidence alone (no fault
 * journal — that is what it is scored against). Pure: no I/O, no clock.
 *
 * 1. Windows, per route, from the request log in time buckets: a bucket is judged against the route's steady state,
 *    the requests of the buckets before it that were not themselves out of line (the first `steadyMinMs` are steady
 *    state only). Error rate: the bucket's errors are unlikely under the steady rate (binomial tail). p99: a share of
 *    the bucket's requests are slower than max(factor x steady p99, steady p99 + margin). Neighbouring flagged buckets
 *    (one quiet bucket between them allowed) make a window, kept when its totals confirm the move.
 * 2. Suspects per window, from the traces: for errors, the deepest ERROR span of each failed request (an error at a
 *    leaf is put on the leaf, not on the callers it travelled through); for latency, each span's self-time (its
 *    duration less its children's) in the window against steady state, as a share of the route's mean latency
 *    increase. From the metrics (RED histograms' `_count`/`_sum` in evidence.metrics.range): the endpoints whose error
 *    rate or mean latency moved, the first to move ranked first; endpoints that moved in the same scrape interval
 *    are ordered deepest first (a fault surfaces at its hop and travels toward the edge within one interval).
 *    Score = 0.7 x trace share + 0.3 / metric rank (either alone when the other has nothing to say).
 * 3. Each suspect's runtime in the window against steady state, from evidence.metrics.range: CPU (cores), GC count
 *    per second, event-loop lag and utilisation, heap (goroutines for Go). What the range does not hold is listed.
 *
 * Naming: a suspect is a service and an operation. A call that failed or slowed before its server answered (a client
 * span's own time, or an ERROR client span without a server child) is put on the callee when the callee is a
 * service of the mesh (`via` "caller -> callee": the link or the callee's listener), and on the caller when the
 * callee is a backend without spans of its own, such as Redis (`via` "orders -> redis").
 */

export interface RcaOptions {
  /** Width of the request-log buckets windows are made of. Default 1000 ms. */
  bucketMs?: number;
  /** The first this-many ms of the load are steady state only, never judged. Default 1000 ms. */
  steadyMinMs?: number;
  /** Fewest steady-state requests of a route before its buckets are judged. Default 5. */
  steadyMinRequests?: number;
  /** A bucket's errors are out of line when their binomial tail under the steady rate is below this. Default 0.05. */
  bucketAlpha?: number;
  /** A window's errors must be this unlikely under the steady rate. Default 1e-3. */
  windowAlpha?: number;
  /** A request is slow above max(latencyFactor x steady p99, steady p99 + latencyMarginMs). Default 2. */
  latencyFactor?: number;
  /** Default 50 ms. */
  latencyMarginMs?: number;
  /** Share of a bucket's (and of a window's) requests that must be slow for the p99 to count as moved. Default 0.25. */
  slowShare?: number;
  /** Fewest slow requests in a p99 window. Default 3. */
  minSlowRequests?: number;
  /** Suspects scoring below this are left out. Default 0.1. */
  minScore?: number;
  /** Suspects kept per window. Default 5. */
  maxSuspects?: number;
  /** The route topology (expectations.topology): names the callee of an HTTP client span that has no server child. */
  topology?: Topology;
}

type Tuning = Required<Omit<RcaOptions, "topology">>;

const DEFAULTS: Tuning = {
  bucketMs: 1_000,
  steadyMinMs: 1_000,
  steadyMinRequests: 5,
  bucketAlpha: 0.05,
  windowAlpha: 1e-3,
  latencyFactor: 2,
  latencyMarginMs: 50,
  slowShare: 0.25,
  minSlowRequests: 3,
  minScore: 0.1,
  maxSuspects: 5,
};

const TRACE_WEIGHT = 0.7;
const METRIC_WEIGHT = 0.3;
/** Significance of one metric step's errors against its steady rate. */
const METRIC_STEP_ALPHA = 0.01;

/** Requests of a route over some time: counts, error rate and latency percentiles (ms). */
export interface RouteStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

/** A stretch of time where one route's error rate or p99 moved away from its steady state. */
export interface RcaWindow {
  route: string;
  startMs: number;
  endMs: number;
  /** What moved. */
  signals: ("error-rate" | "p99")[];
  /** The route before the window (the steady state it is judged against). */
  steady: RouteStats;
  /** The route's requests that started in the window; `slow` of them above `slowAboveMs`. */
  during: RouteStats & { slow: number; slowAboveMs: number };
  /** Requests of the window whose trace is in the evidence. */
  traced: number;
  /** Best first; empty when nothing scored `minScore`. */
  suspects: Suspect[];
}

/** A place the window's change is put down to. */
export interface Suspect {
  service: string;
  /** gRPC "pkg.Service/Method", HTTP "METHOD /route", a call's "METHOD peer", a db call's "redis set". */
  operation: string;
  /** For a call suspect: "caller -> callee" (see the module comment). */
  via?: string;
  /** 0..1; see the module comment. */
  score: number;
  /** What the traces say: the share of the window's failed requests (error) or latency increase (self-time). */
  traces?: { signal: "error" | "self-time"; share: number; requests: number; selfTimeDeltaMs?: number };
  /** What the metrics say: rank among the endpoints that moved, when (interval start) and how. */
  metrics?: { rank: number; movedAtMs: number; signal: "error-rate" | "latency"; endpoint: string };
  runtime: SuspectRuntime;
}

/** A runtime figure in the window against steady state (the load before the window). */
export interface RuntimeCompare {
  window: number;
  steady: number;
}

/** The suspect service's runtime, from evidence.metrics.range (absent figures are named in `missing`). */
export interface SuspectRuntime {
  /** CPU seconds per second. */
  cpuCores?: RuntimeCompare;
  /** GC runs per second (all kinds). */
  gcPerSec?: RuntimeCompare;
  /** Event-loop lag: the window's highest, steady state's mean. */
  eventLoopLagMs?: RuntimeCompare;
  eventLoopUtilization?: RuntimeCompare;
  /** Heap used: the window's highest, steady state's mean. */
  heapUsedBytes?: RuntimeCompare;
  goroutines?: RuntimeCompare;
  /** Series of this service's contract that evidence.metrics.range does not hold. */
  missing: string[];
}

/** One scenario's localisation. */
export interface RcaResult {
  windows: RcaWindow[];
  /** What the evidence allowed and did not (e.g. no RED range series: suspects ranked from traces alone). */
  notes: string[];
}

/** Which service a fault's effect must be localised to (the AC@k target). */
export function faultTargetService(fault: Pick<FaultRecord, "kind" | "target">, meshServices: readonly string[]) {
  const at = faultLocation(fault);
  // A link is put on its callee, where calls stop arriving; a link into a backend without spans (Redis) on its
  // caller, the only side that can see it.
  if ("link" in at) return meshServices.includes(at.link.to) ? at.link.to : at.link.from;
  return at.service;
}

/** Localises every window of one scenario's evidence. */
export function localize(evidence: Evidence, options: RcaOptions = {}): RcaResult {
  const o = { ...DEFAULTS, ...options };
  const ctx = new RcaContext(evidence, options.topology);
  const notes: string[] = [];
  const red = ctx.redSeries();
  if (red.length === 0)
    notes.push(
      "evidence.metrics.range holds no RED histogram series (_count/_sum): suspects are ranked from traces alone",
    );
  const missingRuntime = new Set(evidence.services.flatMap((s) => ctx.runtimeMissing(s)));
  if (missingRuntime.size > 0)
    notes.push(`evidence.metrics.range holds no ${[...missingRuntime].sort().join(", ")}: not attached to suspects`);
  const detected = detectWindows(evidence, o);
  for (const d of detected) d.window.suspects = rankSuspects(ctx, d, red, o);
  return { windows: detected.map((d) => d.window), notes };
}

// ---------------------------------------------------------------------------------------------------------------
// Windows

interface DetectedWindow {
  window: RcaWindow;
  requests: RequestRecord[];
  steadyRequests: RequestRecord[];
}

function latencyMs(r: RequestRecord): number {
  return r.endMs - r.startMs;
}

function failed(r: RequestRecord): boolean {
  return !isSuccess(r.status);
}

function stats(requests: readonly RequestRecord[]): RouteStats {
  const latencies = requests.map(latencyMs).sort((a, b) => a - b);
  const errors = requests.filter(failed).length;
  return {
    requests: requests.length,
    errors,
    errorRate: requests.length === 0 ? 0 : round(errors / requests.length, 4),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** P(X >= k) for X ~ Binomial(n, p), summed exactly in log space. */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logC = 0;
  let tail = 0;
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) tail += Math.exp(logC + i * logP + (n - i) * logQ);
  }
  return Math.min(1, tail);
}

/** The steady error rate, never 0: half an error is added so one error after a clean steady state is judged. */
function steadyRate(steady: readonly RequestRecord[]): number {
  return (steady.filter(failed).length + 0.5) / (steady.length + 1);
}

function slowThreshold(steady: readonly RequestRecord[], o: Tuning): number {
  const p99 = percentile(
    steady.map(latencyMs).sort((a, b) => a - b),
    0.99,
  );
  return Math.max(o.latencyFactor * p99, p99 + o.latencyMarginMs);
}

function detectWindows(evidence: Evidence, o: Tuning): DetectedWindow[] {
  const t0 = evidence.window.startMs;
  const byRoute = new Map<string, RequestRecord[]>();
  for (const r of evidence.requests) {
    const list = byRoute.get(r.route);
    if (list) list.push(r);
    else byRoute.set(r.route, [r]);
  }
  const out: DetectedWindow[] = [];
  for (const [route, requests] of [...byRoute].sort(([a], [b]) => a.localeCompare(b))) {
    const buckets = new Map<number, RequestRecord[]>();
    for (const r of requests) {
      const i = Math.max(0, Math.floor((r.startMs - t0) / o.bucketMs));
      const list = buckets.get(i);
      if (list) list.push(r);
      else buckets.set(i, [r]);
    }
    const last = Math.max(...buckets.keys());
    // Steady state grows by every bucket that is not out of line; a flagged bucket remembers how much of it existed.
    const steady: RequestRecord[] = [];
    const flagged: { index: number; steadyCount: number }[] = [];
    for (let i = 0; i <= last; i++) {
      const bucket = buckets.get(i) ?? [];
      if (i * o.bucketMs < o.steadyMinMs || steady.length < o.steadyMinRequests) {
        steady.push(...bucket);
        continue;
      }
      if (bucket.length === 0) continue;
      const errors = bucket.filter(failed).length;
      const errorUp = errors > 0 && binomialTail(errors, bucket.length, steadyRate(steady)) < o.bucketAlpha;
      const threshold = slowThreshold(steady, o);
      const slow = bucket.filter((r) => latencyMs(r) > threshold).length;
      const latencyUp = slow >= Math.min(2, bucket.length) && slow / bucket.length >= o.slowShare;
      if (errorUp || latencyUp) flagged.push({ index: i, steadyCount: steady.length });
      else steady.push(...bucket);
    }
    // Flagged buckets at most one quiet bucket apart make one candidate window.
    const runs: { first: number; last: number; steadyCount: number }[] = [];
    for (const f of flagged) {
      const run = runs.at(-1);
      if (run && f.index - run.last <= 2) run.last = f.index;
      else runs.push({ first: f.index, last: f.index, steadyCount: f.steadyCount });
    }
    for (const run of runs) {
      const inWindow: RequestRecord[] = [];
      for (let i = run.first; i <= run.last; i++) inWindow.push(...(buckets.get(i) ?? []));
      const before = steady.slice(0, run.steadyCount);
      const during = stats(inWindow);
      const threshold = slowThreshold(before, o);
      const slow = inWindow.filter((r) => latencyMs(r) > threshold).length;
      const signals: RcaWindow["signals"] = [];
      if (during.errors > 0 && binomialTail(during.errors, during.requests, steadyRate(before)) < o.windowAlpha)
        signals.push("error-rate");
      if (slow >= o.minSlowRequests && slow / inWindow.length >= o.slowShare) signals.push("p99");
      if (signals.length === 0) continue;
      out.push({
        window: {
          route,
          startMs: t0 + run.first * o.bucketMs,
          endMs: t0 + (run.last + 1) * o.bucketMs,
          signals,
          steady: stats(before),
          during: { ...during, slow, slowAboveMs: round(threshold, 1) },
          traced: 0,
          suspects: [],
        },
        requests: inWindow,
        steadyRequests: before,
      });
    }
  }
  return out.sort((a, b) => a.window.startMs - b.window.startMs || a.window.route.localeCompare(b.window.route));
}

// ---------------------------------------------------------------------------------------------------------------
// Suspects

/** Where a change is put: a service's operation, or a call into it (see the module comment). */
export interface Identity {
  service: string;
  operation: string;
  via?: string;
}

/** The key a suspect (or a span's identity) is merged and compared by. */
export function suspectKey(id: Identity): string {
  return `${id.service}|${id.operation}|${id.via ?? ""}`;
}

/** A RED series of one endpoint, ready to be read per step. */
interface RedSeries {
  identity: Identity;
  endpoint: string;
  part: "_count" | "_sum";
  error: boolean;
  series: MetricSeries;
}

/**
 * What every stage reads of one scenario: services, contracts, the call graph, the span reader; and how a span is
 * named as a suspect (`identify`), which the report uses to highlight a suspect's spans.
 */
export class RcaContext {
  readonly reader: SpanReader;
  readonly edge: ServiceInfo | undefined;
  readonly mesh: Set<string>;
  private readonly byName: Map<string, ServiceInfo>;
  private readonly byInstance = new Map<string, ServiceInfo>();
  /** gRPC "pkg.Service" -> the mesh service that declares it. */
  private readonly rpcOwner = new Map<string, string>();
  private depths: Map<string, number> | undefined;

  constructor(
    readonly evidence: Evidence,
    readonly topology: Topology | undefined,
  ) {
    this.byName = new Map(evidence.services.map((s) => [s.name, s]));
    this.mesh = new Set(this.byName.keys());
    this.edge = evidence.services.find((s) => s.role === "edge");
    this.reader = new SpanReader((name) => this.byName.get(name)?.contract);
    for (const s of evidence.services) {
      this.byInstance.set(s.instance, s);
      for (const op of s.operations ?? []) if (op.includes("/")) this.rpcOwner.set(op.split("/")[0]!, s.name);
    }
  }

  contract(service: string): TelemetryContract {
    return this.byName.get(service)?.contract ?? DEFAULT_CONTRACT;
  }

  service(name: string): ServiceInfo | undefined {
    return this.byName.get(name);
  }

  /** The mesh service serving a gRPC "pkg.Service" (from the services' declared operations). */
  rpcService(grpcService: string | undefined): string | undefined {
    if (grpcService === undefined) return undefined;
    return this.rpcOwner.get(grpcService) ?? this.rpcOwner.get(grpcService.split("/")[0]!);
  }

  /** The callee of an HTTP call from `caller` by the topology, when exactly one hop fits. */
  httpCallee(caller: string): string | undefined {
    const callees = new Set(
      Object.values(this.topology ?? {}).flatMap((hops) =>
        hops.filter((h) => h.from === caller && h.protocol === "http").map((h) => h.to),
      ),
    );
    return callees.size === 1 ? [...callees][0] : undefined;
  }

  /** The identity a call from `caller` to `peer` is put on. */
  call(caller: string, peer: string | undefined, operation: string): Identity {
    const callee = peer ?? "?";
    if (peer !== undefined && this.mesh.has(peer)) return { service: peer, operation, via: `${caller} -> ${peer}` };
    return { service: caller, operation, via: `${caller} -> ${callee}` };
  }

  /** The identity a span's errors or own time are put on. */
  identify(span: Span, index: IndexedTrace): Identity {
    const r = this.reader;
    const protocol = r.protocol(span);
    if (span.kind === "client") {
      const server = serverChildren(index, span)[0];
      if (protocol === "grpc") {
        const op = r.rpcOperation(span) ?? span.name;
        const peer = server?.service ?? this.rpcService(op);
        return this.call(span.service, peer, op);
      }
      if (protocol === "http") {
        const peer = server?.service ?? this.httpCallee(span.service);
        const method = span.attributes[r.keys(span).httpMethod];
        return this.call(span.service, peer, `${String(method ?? span.name)} ${peer ?? "?"}`);
      }
      if (protocol !== undefined) return this.call(span.service, protocol, `${protocol} ${span.name}`);
      return this.call(span.service, server?.service, span.name);
    }
    const operation = protocol === "grpc" ? r.rpcOperation(span) : protocol === "http" ? r.httpRoute(span) : undefined;
    return { service: span.service, operation: operation ?? span.name };
  }

  /** Depth of a service below the edge: its longest call path, by the client RED series and the topology. */
  depth(service: string): number {
    if (!this.depths) {
      const edges = new Map<string, Set<string>>();
      for (const s of this.redSeries()) {
        const via = s.identity.via;
        if (!via) continue;
        const [from, to] = via.split(" -> ") as [string, string];
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
      for (const hops of Object.values(this.topology ?? {}))
        for (const h of hops) {
          if (!edges.has(h.from)) edges.set(h.from, new Set());
          edges.get(h.from)!.add(h.to);
        }
      // The longest call path from the edge: a service called both by the edge and by a service the edge calls
      // (inventory: by the gateway and by orders) sits below its deepest caller.
      this.depths = new Map();
      const longest = (from: string, d: number, path: Set<string>) => {
        if ((this.depths!.get(from) ?? -1) >= d) return;
        this.depths!.set(from, d);
        for (const to of edges.get(from) ?? []) if (!path.has(to)) longest(to, d + 1, new Set([...path, to]));
      };
      if (this.edge) longest(this.edge.name, 0, new Set([this.edge.name]));
    }
    return this.depths.get(service) ?? 0;
  }

  /** How deep an identity sits: its service's depth, or for a call half a level below its caller. */
  identityDepth(identity: Identity): number {
    return identity.via ? this.depth(identity.via.split(" -> ")[0]!) + 0.5 : this.depth(identity.service);
  }

  private redCache: RedSeries[] | undefined;

  /** The RED histograms' `_count`/`_sum` range series of every service, each put on its identity. */
  redSeries(): RedSeries[] {
    if (!this.redCache) {
      const out: RedSeries[] = [];
      const excluded = new Set<string>(DEFAULT_EXCLUDED_ROUTES);
      for (const series of this.evidence.metrics.range) {
        for (const service of this.evidence.services) {
          const c = service.contract;
          const l = c.labels;
          if (series.labels[l.instance] !== service.instance) continue;
          const endpoints = [
            { h: c.httpServerDuration, protocol: "http", side: "server" },
            { h: c.httpClientDuration, protocol: "http", side: "client" },
            { h: c.grpcServerHandling, protocol: "grpc", side: "server" },
            { h: c.grpcClientHandling, protocol: "grpc", side: "client" },
          ] as const;
          for (const { h, protocol, side } of endpoints) {
            const part = series.name === `${h.name}_count` ? "_count" : series.name === `${h.name}_sum` ? "_sum" : "";
            if (!part) continue;
            const labels = series.labels;
            let identity: Identity;
            let code: string;
            if (protocol === "grpc") {
              const op = `${labels[l.grpcService]}/${labels[l.grpcMethod]}`;
              code = labels[l.grpcCode] ?? "";
              identity =
                side === "server"
                  ? { service: service.name, operation: op }
                  : this.call(service.name, this.rpcService(labels[l.grpcService]), op);
            } else {
              code = labels[l.httpStatusCode] ?? "";
              if (side === "server") {
                if (excluded.has(labels[l.httpRoute] ?? "")) continue;
                identity = { service: service.name, operation: `${labels[l.httpMethod]} ${labels[l.httpRoute]}` };
              } else {
                const peer = labels[l.peerService];
                identity = this.call(service.name, peer, `${labels[l.httpMethod]} ${peer ?? "?"}`);
              }
            }
            const error = protocol === "grpc" ? code !== "OK" : !isSuccess(Number(code));
            out.push({
              identity,
              endpoint: `${service.name} ${protocol} ${side}`,
              part,
              error,
              series,
            });
          }
        }
      }
      this.redCache = out;
    }
    return this.redCache;
  }

  /** The series of a service's contract evidence.metrics.range lacks, as runtime figures need them. */
  runtimeMissing(service: ServiceInfo): string[] {
    return runtimeNames(service.contract)
      .filter(({ name }) => !this.evidence.metrics.range.some((s) => s.name === name && this.owns(service, s)))
      .map(({ name }) => name);
  }

  owns(service: ServiceInfo, series: MetricSeries): boolean {
    return series.labels[service.contract.labels.instance] === service.instance;
  }

  trace(request: RequestRecord): IndexedTrace | undefined {
    if (request.parent === "unsampled") return undefined;
    const traceId = request.parent === "none" ? (request.responseTraceId ?? request.traceId) : request.traceId;
    const trace = traceId ? this.evidence.traces[traceId] : undefined;
    if (!trace || trace.spans.length === 0) return undefined;
    return indexTrace(trace, request.parentSpanId, this.edge?.name);
  }
}

function runtimeNames(c: TelemetryContract) {
  const r = c.runtimeMetrics;
  return [
    { key: "cpuCores", name: r.cpuSecondsTotal },
    { key: "gcPerSec", name: `${r.gcDuration.name}_count` },
    { key: "eventLoopLagMs", name: r.eventLoopLagSeconds },
    { key: "eventLoopUtilization", name: r.eventLoopUtilization },
    { key: "heapUsedBytes", name: r.heapUsedBytes },
    { key: "goroutines", name: r.goroutines },
  ].filter((x): x is { key: keyof SuspectRuntime & string; name: string } => x.name !== undefined);
}

/** Depth of every span of a trace (roots 0). */
function spanDepths(index: IndexedTrace): Map<Span, number> {
  const depths = new Map<Span, number>();
  const walk = (span: Span, d: number) => {
    depths.set(span, d);
    for (const child of index.children.get(span.spanId) ?? []) walk(child, d + 1);
  };
  for (const root of [...index.roots, ...index.orphans]) walk(root, 0);
  return depths;
}

/** Rounding of span start times (ms) makes sequential children look like they overlap by up to this. */
const START_ROUNDING_US = 1_000;

/** A span's own time: its duration less the time its children cover (sequential children add up). */
export function selfTimeUs(span: Span, children: readonly Span[]): number {
  const sorted = [...children].sort((a, b) => a.startTimeUs - b.startTimeUs);
  let covered = 0;
  let coveredEnd = -Infinity;
  for (const child of sorted) {
    const end = child.startTimeUs + child.durationUs;
    if (child.startTimeUs >= coveredEnd - START_ROUNDING_US) covered += child.durationUs;
    else covered += Math.max(0, end - coveredEnd);
    coveredEnd = Math.max(coveredEnd, end);
  }
  return Math.max(0, span.durationUs - Math.min(covered, span.durationUs));
}

function rankSuspects(ctx: RcaContext, detected: DetectedWindow, red: readonly RedSeries[], o: Tuning): Suspect[] {
  const window = detected.window;
  const traceShares = new Map<
    string,
    { identity: Identity; share: number; signal: "error" | "self-time"; requests: number; deltaMs?: number }
  >();
  const offer = (
    identity: Identity,
    share: number,
    signal: "error" | "self-time",
    requests: number,
    deltaMs?: number,
  ) => {
    const key = suspectKey(identity);
    const known = traceShares.get(key);
    if (!known || share > known.share) traceShares.set(key, { identity, share, signal, requests, deltaMs });
  };
  const traced = detected.requests.map((r) => ({ r, index: ctx.trace(r) })).filter((x) => x.index !== undefined);
  window.traced = traced.length;

  if (window.signals.includes("error-rate")) {
    const failures = traced.filter(({ r }) => failed(r));
    const credit = new Map<string, { identity: Identity; credit: number; requests: number }>();
    for (const { index } of failures) {
      const depths = spanDepths(index!);
      const errors = index!.trace.spans.filter((s) => s.status === "error");
      if (errors.length === 0) continue;
      const deepest = Math.max(...errors.map((s) => depths.get(s) ?? 0));
      const at = errors.filter((s) => (depths.get(s) ?? 0) === deepest);
      for (const span of at) {
        const identity = ctx.identify(span, index!);
        const key = suspectKey(identity);
        const entry = credit.get(key) ?? { identity, credit: 0, requests: 0 };
        entry.credit += 1 / at.length;
        entry.requests++;
        credit.set(key, entry);
      }
    }
    for (const { identity, credit: c, requests } of credit.values())
      offer(identity, failures.length === 0 ? 0 : c / failures.length, "error", requests);
  }

  if (window.signals.includes("p99")) {
    const meanSelf = (requests: RequestRecord[]) => {
      const sums = new Map<string, { identity: Identity; us: number }>();
      let n = 0;
      for (const r of requests) {
        const index = ctx.trace(r);
        if (!index) continue;
        n++;
        for (const span of index.trace.spans) {
          const identity = ctx.identify(span, index);
          const key = suspectKey(identity);
          const entry = sums.get(key) ?? { identity, us: 0 };
          entry.us += selfTimeUs(span, index.children.get(span.spanId) ?? []);
          sums.set(key, entry);
        }
      }
      return new Map([...sums].map(([k, v]) => [k, { identity: v.identity, ms: n === 0 ? 0 : v.us / n / 1000 }]));
    };
    const during = meanSelf(detected.requests);
    const before = meanSelf(detected.steadyRequests);
    const mean = (rs: RequestRecord[]) => (rs.length === 0 ? 0 : rs.reduce((a, r) => a + latencyMs(r), 0) / rs.length);
    const routeDelta = mean(detected.requests) - mean(detected.steadyRequests);
    const deltas = [...during].map(([key, v]) => ({
      identity: v.identity,
      deltaMs: v.ms - (before.get(key)?.ms ?? 0),
    }));
    const positive = deltas.filter((d) => d.deltaMs > 0).reduce((a, d) => a + d.deltaMs, 0);
    const denominator = routeDelta > 0 ? routeDelta : positive;
    for (const d of deltas) {
      if (d.deltaMs <= 0 || denominator <= 0) continue;
      offer(d.identity, Math.min(1, d.deltaMs / denominator), "self-time", traced.length, round(d.deltaMs, 1));
    }
  }

  const metricRanks = rankEndpoints(ctx, window, red);
  const hasTraces = traceShares.size > 0;
  const hasMetrics = red.length > 0;
  const keys = new Set([...traceShares.keys(), ...metricRanks.keys()]);
  const suspects: Suspect[] = [];
  for (const key of keys) {
    const t = traceShares.get(key);
    const m = metricRanks.get(key);
    const traceScore = t?.share ?? 0;
    const metricScore = m ? 1 / m.rank : 0;
    const score =
      hasTraces && hasMetrics
        ? TRACE_WEIGHT * traceScore + METRIC_WEIGHT * metricScore
        : hasTraces
          ? traceScore
          : metricScore;
    if (score < o.minScore) continue;
    const identity = (t ?? m)!.identity;
    suspects.push({
      ...identity,
      score: round(score, 3),
      ...(t
        ? {
            traces: {
              signal: t.signal,
              share: round(t.share, 3),
              requests: t.requests,
              ...(t.deltaMs !== undefined ? { selfTimeDeltaMs: t.deltaMs } : {}),
            },
          }
        : {}),
      ...(m ? { metrics: { rank: m.rank, movedAtMs: m.movedAtMs, signal: m.signal, endpoint: m.endpoint } } : {}),
      runtime: { missing: [] },
    });
  }
  suspects.sort(
    (a, b) =>
      b.score - a.score ||
      (b.traces?.share ?? 0) - (a.traces?.share ?? 0) ||
      (a.metrics?.rank ?? Infinity) - (b.metrics?.rank ?? Infinity) ||
      suspectKey(a).localeCompare(suspectKey(b)),
  );
  const kept = suspects.slice(0, o.maxSuspects);
  for (const s of kept) s.runtime = runtimeOf(ctx, s.service, window);
  return kept;
}

interface EndpointMove {
  identity: Identity;
  rank: number;
  movedAtMs: number;
  signal: "error-rate" | "latency";
  endpoint: string;
}

/**
 * The endpoints whose error rate or mean latency moved in (or one step after) the window, against the steps of the
 * load before it; ranked by when they moved (same scrape interval = a tie), then deepest first.
 */
function rankEndpoints(ctx: RcaContext, window: RcaWindow, red: readonly RedSeries[]): Map<string, EndpointMove> {
  const groups = new Map<string, { identity: Identity; depth: number; endpoint: string; series: RedSeries[] }>();
  for (const s of red) {
    const key = `${suspectKey(s.identity)}|${s.endpoint}`;
    const g = groups.get(key) ?? {
      identity: s.identity,
      depth: ctx.identityDepth(s.identity),
      endpoint: s.endpoint,
      series: [],
    };
    g.series.push(s);
    groups.set(key, g);
  }
  const loadStartSec = ctx.evidence.window.startMs / 1000;
  const moves: { identity: Identity; depth: number; endpoint: string; atMs: number; signal: EndpointMove["signal"] }[] =
    [];
  for (const g of groups.values()) {
    // Per step (the interval ending at t): requests, errors, seconds.
    const steps = new Map<number, { n: number; e: number; s: number }>();
    for (const rs of g.series) {
      const values = rs.series.values;
      for (let i = 1; i < values.length; i++) {
        const [t, v] = values[i]!;
        const inc = Math.max(0, v - values[i - 1]![1]);
        const step = steps.get(t) ?? { n: 0, e: 0, s: 0 };
        if (rs.part === "_count") {
          step.n += inc;
          if (rs.error) step.e += inc;
        } else step.s += inc;
        steps.set(t, step);
      }
    }
    const ordered = [...steps].sort(([a], [b]) => a - b);
    const stepSec = ordered.length > 1 ? ordered[1]![0] - ordered[0]![0] : 1;
    let n0 = 0;
    let e0 = 0;
    let s0 = 0;
    for (const [t, st] of ordered) {
      if (t - stepSec < loadStartSec || t * 1000 > window.startMs) continue;
      n0 += st.n;
      e0 += st.e;
      s0 += st.s;
    }
    const p0 = (e0 + 0.5) / (n0 + 1);
    const m0 = n0 > 0 ? s0 / n0 : undefined;
    for (const [t, st] of ordered) {
      if (t * 1000 <= window.startMs || (t - 2 * stepSec) * 1000 > window.endMs || st.n <= 0) continue;
      const errorUp =
        window.signals.includes("error-rate") &&
        st.e > 0 &&
        binomialTail(Math.round(st.e), Math.round(st.n), p0) < METRIC_STEP_ALPHA;
      const latencyUp = window.signals.includes("p99") && m0 !== undefined && st.s / st.n > Math.max(2 * m0, m0 + 0.05);
      if (!errorUp && !latencyUp) continue;
      moves.push({
        identity: g.identity,
        depth: g.depth,
        endpoint: g.endpoint,
        atMs: Math.round((t - stepSec) * 1000),
        signal: errorUp ? "error-rate" : "latency",
      });
      break;
    }
  }
  // Targets are scraped at different offsets within an interval: moves within one step of the first are a tie.
  const first = Math.min(...moves.map((m) => m.atMs));
  const values = red[0]?.series.values ?? [];
  const stepMs = values.length > 1 ? (values[1]![0] - values[0]![0]) * 1000 : 1000;
  const when = (m: { atMs: number }) => (m.atMs - first <= stepMs ? first : m.atMs);
  moves.sort((a, b) => when(a) - when(b) || b.depth - a.depth || a.endpoint.localeCompare(b.endpoint));
  const out = new Map<string, EndpointMove>();
  for (const m of moves) {
    const key = suspectKey(m.identity);
    if (!out.has(key))
      out.set(key, {
        identity: m.identity,
        rank: out.size + 1,
        movedAtMs: m.atMs,
        signal: m.signal,
        endpoint: m.endpoint,
      });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Runtime

function runtimeOf(ctx: RcaContext, serviceName: string, window: RcaWindow): SuspectRuntime {
  const service = ctx.service(serviceName);
  if (!service) return { missing: ["(not a service of the mesh: no runtime series)"] };
  const contract = service.contract;
  const range = ctx.evidence.metrics.range.filter((s) => ctx.owns(service, s));
  const loadStart = ctx.evidence.window.startMs;
  const runtime: SuspectRuntime = { missing: [] };
  const points = (name: string) => {
    // Several series of one name (GC by kind) are summed per timestamp.
    const byT = new Map<number, number>();
    for (const s of range.filter((x) => x.name === name))
      for (const [t, v] of s.values) byT.set(t, (byT.get(t) ?? 0) + v);
    return [...byT].sort(([a], [b]) => a - b).map(([t, v]) => ({ ms: t * 1000, v }));
  };
  const between = (ps: { ms: number; v: number }[], from: number, to: number) =>
    ps.filter((p) => p.ms >= from && p.ms <= to);
  const rate = (ps: { ms: number; v: number }[]) =>
    ps.length < 2 ? undefined : (ps.at(-1)!.v - ps[0]!.v) / ((ps.at(-1)!.ms - ps[0]!.ms) / 1000);
  const mean = (ps: { v: number }[]) => (ps.length === 0 ? undefined : ps.reduce((a, p) => a + p.v, 0) / ps.length);
  const max = (ps: { v: number }[]) => (ps.length === 0 ? undefined : Math.max(...ps.map((p) => p.v)));
  // The window's samples: scrapes up to one step after it ends still describe it.
  const during = (ps: { ms: number; v: number }[]) => between(ps, window.startMs, window.endMs + 1000);
  const steady = (ps: { ms: number; v: number }[]) => between(ps, loadStart, window.startMs);
  for (const { key, name } of runtimeNames(contract)) {
    const ps = points(name);
    if (ps.length === 0) {
      runtime.missing.push(name);
      continue;
    }
    let value: RuntimeCompare | undefined;
    const pair = (w: number | undefined, s: number | undefined, digits: number) =>
      w === undefined || s === undefined ? undefined : { window: round(w, digits), steady: round(s, digits) };
    switch (key) {
      case "cpuCores":
        value = pair(rate(during(ps)), rate(steady(ps)), 3);
        break;
      case "gcPerSec":
        value = pair(rate(during(ps)), rate(steady(ps)), 2);
        break;
      case "eventLoopLagMs":
        value = pair(scale(max(during(ps)), 1000), scale(mean(steady(ps)), 1000), 2);
        break;
      case "heapUsedBytes":
        value = pair(max(during(ps)), mean(steady(ps)), 0);
        break;
      default:
        value = pair(mean(during(ps)), mean(steady(ps)), 3);
    }
    if (value) (runtime as unknown as Record<string, RuntimeCompare>)[key] = value;
  }
  return runtime;
}

function scale(v: number | undefined, by: number): number | undefined {
  return v === undefined ? undefined : v * by;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring against the fault journal

/** One scenario's localisation with the ground truth it is scored against. */
export interface ScoredRun {
  scenario: string;
  faults: readonly FaultRecord[];
  /** The mesh's services (a link into anything else is put on its caller). */
  services: readonly string[];
  /** Load end (a fault never reverted counts as active until then). */
  windowEndMs: number;
  result: RcaResult;
}

/** A fault whose target was not ranked first, with the ranking it got. */
export interface RcaMiss {
  scenario: string;
  faultId: string;
  kind: string;
  /** The fault's target as journaled. */
  target: string;
  /** The service AC@k looks for (faultTargetService). */
  expected: string;
  /** Where the expected service was ranked (1-based); null when not among the suspects. */
  rank: number | null;
  /** "service operation [via] score", best first. */
  ranking: string[];
  /** Why: no window overlapped the fault, or the windows' suspects put something else first. */
  reason: string;
}

/** AC@k over a set of scenarios: the share (0..1) of faults whose target service is among the top k suspects. */
export interface RcaScore {
  faults: number;
  ac1: number | null;
  ac3: number | null;
  byKind: Record<string, { faults: number; ac1: number; ac3: number }>;
  misses: RcaMiss[];
  /** Windows that overlap no journaled fault (false alarms). */
  unexplainedWindows: { scenario: string; route: string; startMs: number; endMs: number }[];
}

/** The suspects of the windows a fault overlaps, merged (best score per suspect), best first. */
export function faultRanking(
  fault: FaultRecord,
  windows: readonly RcaWindow[],
  windowEndMs: number,
): { windows: RcaWindow[]; ranking: Suspect[] } {
  const endMs = (fault.revertedAtMs ?? windowEndMs) + (FAULT_EFFECTS[fault.kind]?.graceMs ?? 0);
  const overlapping = windows.filter((w) => w.startMs < endMs && w.endMs > fault.appliedAtMs);
  const best = new Map<string, Suspect>();
  for (const w of overlapping)
    for (const s of w.suspects) {
      const key = suspectKey(s);
      if (!best.has(key) || best.get(key)!.score < s.score) best.set(key, s);
    }
  return { windows: overlapping, ranking: [...best.values()].sort((a, b) => b.score - a.score) };
}

export function describeSuspect(s: Suspect): string {
  return `${s.service} ${s.operation}${s.via ? ` [${s.via}]` : ""} ${s.score.toFixed(2)}`;
}

/** Scores localisation against the fault journals of a set of scenarios (the whole catalog). */
export function scoreLocalization(runs: readonly ScoredRun[]): RcaScore {
  const byKind: RcaScore["byKind"] = {};
  const misses: RcaMiss[] = [];
  let faults = 0;
  let hit1 = 0;
  let hit3 = 0;
  const kinds = new Map<string, { faults: number; hit1: number; hit3: number }>();
  const unexplained: RcaScore["unexplainedWindows"] = [];
  for (const run of runs) {
    const explained = new Set<RcaWindow>();
    for (const fault of run.faults) {
      const expected = faultTargetService(fault, run.services);
      const { windows, ranking } = faultRanking(fault, run.result.windows, run.windowEndMs);
      for (const w of windows) explained.add(w);
      // An overload has no place to find: it explains its windows and is not scored.
      if (fault.kind === "overload") continue;
      const index = ranking.findIndex((s) => s.service === expected);
      const rank = index < 0 ? null : index + 1;
      const k = kinds.get(fault.kind) ?? { faults: 0, hit1: 0, hit3: 0 };
      kinds.set(fault.kind, k);
      faults++;
      k.faults++;
      if (rank === 1) {
        hit1++;
        k.hit1++;
      }
      if (rank !== null && rank <= 3) {
        hit3++;
        k.hit3++;
      }
      if (rank !== 1)
        misses.push({
          scenario: run.scenario,
          faultId: fault.id,
          kind: fault.kind,
          target: fault.target,
          expected,
          rank,
          ranking: ranking.slice(0, 5).map(describeSuspect),
          reason:
            windows.length === 0
              ? "no window of any route overlaps the fault: its effect was not detected in the request log"
              : ranking.length === 0
                ? `${windows.length} window(s) overlap the fault but no suspect scored above the threshold`
                : `ranked ${rank ?? "nowhere"} among ${ranking.length} suspect(s); first: ${describeSuspect(ranking[0]!)}`,
        });
    }
    for (const w of run.result.windows)
      if (!explained.has(w))
        unexplained.push({ scenario: run.scenario, route: w.route, startMs: w.startMs, endMs: w.endMs });
  }
  for (const [kind, k] of [...kinds].sort(([a], [b]) => a.localeCompare(b)))
    byKind[kind] = { faults: k.faults, ac1: round(k.hit1 / k.faults, 4), ac3: round(k.hit3 / k.faults, 4) };
  return {
    faults,
    ac1: faults === 0 ? null : round(hit1 / faults, 4),
    ac3: faults === 0 ? null : round(hit3 / faults, 4),
    byKind,
    misses,
    unexplainedWindows: unexplained,
  };
}

/** One line: "RCA: AC@1 3/3 (100%), AC@3 3/3 (100%); error 1/1, latency 1/1, link-down 1/1 at 1". */
export function rcaScoreLine(score: RcaScore): string {
  if (score.faults === 0)
    return `RCA: no fault in the journal to score against (${score.unexplainedWindows.length} window(s) without a fault)`;
  const pct = (v: number | null) => `${Math.round((v ?? 0) * 100)}%`;
  const of = (v: number | null) => `${Math.round((v ?? 0) * score.faults)}/${score.faults}`;
  const kinds = Object.entries(score.byKind)
    .map(([kind, k]) => `${kind} ${Math.round(k.ac1 * k.faults)}/${k.faults}`)
    .join(", ");
  return (
    `RCA: AC@1 ${of(score.ac1)} (${pct(score.ac1)}), AC@3 ${of(score.ac3)} (${pct(score.ac3)}); at 1 by kind: ${kinds}` +
    `; ${score.misses.length} miss(es), ${score.unexplainedWindows.length} window(s) without a fault`
  );
}
