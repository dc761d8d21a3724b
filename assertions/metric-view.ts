import type { MetricContract, TelemetryContract } from "./contract";
import type { MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_EXCLUDED_ROUTES } from "./expectations";
import {
  asOperation,
  codeKeyOf,
  httpOperation,
  inForm,
  requiredKeys,
  roleOf,
  seriesCode,
  statusForm,
  type StatusForm,
  type MetricRole,
  type Protocol,
  type Side,
} from "./metric-labels";
import { deltaAcrossLives, select, type Labels, type Selector } from "./metric-query";
import type { PlacedSpan, RunView } from "./run-view";
import { NO_RESPONSE } from "./trace-index";

export type { Protocol, Side } from "./metric-labels";

/** One side of one protocol of one service: where RED series live. */
export interface Endpoint {
  service: ServiceInfo;
  protocol: Protocol;
  side: Side;
}

/** Per operation and code, a tally: "POST /api/checkout|502" -> n (operation as `operationOf` names it). */
export type Tally = Map<string, number>;

/** What a comparison needs of an endpoint: its counter, its histogram, a counter of its own, peers named. */
export type Need = "counter" | "histogram" | "own-counter" | "peers";

/** The planned endpoints a comparison can judge, and why each other one is left out. */
export interface Judgeable {
  endpoints: Endpoint[];
  /** endpointKey -> why it is left out (what is missing and where it would be declared). */
  leftOut: Record<string, string>;
}

export function endpointKey(e: Endpoint): string {
  return `${e.service.name} ${e.protocol} ${e.side}`;
}

/** Whether a service exposes /metrics: ServiceInfo.instance is "" when it does not. */
export function hasMetrics(service: ServiceInfo): boolean {
  return service.instance !== "";
}

/** Why a service exposes nothing to judge, naming where it would be declared. */
export function noMetricsReason(names: readonly string[]): string {
  return names.length === 1
    ? `${names[0]} exposes no /metrics (services.${names[0]}.metricsUrl)`
    : `${names.join(", ")} expose no /metrics (services.<name>.metricsUrl)`;
}

/**
 * A not-promised reason: what could not be judged, then why, each reason once with what it left out ("gateway http
 * server, gateway http client: gateway exposes no /metrics (services.gateway.metricsUrl)").
 */
export function leftOutReason(what: string, leftOut: Readonly<Record<string, string>>): string {
  const byWhy = new Map<string, string[]>();
  for (const [key, why] of Object.entries(leftOut)) byWhy.set(why, [...(byWhy.get(why) ?? []), key]);
  return `${what} (${[...byWhy].map(([why, keys]) => `${keys.join(", ")}: ${why}`).join("; ")})`;
}

/** The run's one MetricView (its tallies are computed once and shared by every family). */
export function metricView(view: RunView): MetricView {
  return view.memo("metric view", () => new MetricView(view));
}

/**
 * Reads one run's RED metrics through each service's contract. Operations are named alike on both sides of the
 * comparison: HTTP server "METHOD /route", HTTP client "METHOD peer" (route or peer alone when the contract's series
 * carry no method), gRPC "pkg.Service/Method"; codes in the endpoint's status form (classes where a metric labels
 * classes) and gRPC codes in UPPER_SNAKE. Series lacking a key the judge reads are left out of every tally.
 */
export class MetricView {
  readonly excluded: Set<string>;

  constructor(readonly view: RunView) {
    this.excluded = new Set(view.expectations.metrics?.excludeRoutes ?? DEFAULT_EXCLUDED_ROUTES);
  }

  get start(): MetricSample[] {
    return this.view.evidence.metrics.start;
  }

  get end(): MetricSample[] {
    return this.view.evidence.metrics.end;
  }

  /** The services that expose /metrics: the only ones any metric comparison judges. */
  get withMetrics(): ServiceInfo[] {
    return this.view.evidence.services.filter(hasMetrics);
  }

  /** The names of the services that expose no /metrics (left out, named in not-promised reasons). */
  get withoutMetrics(): string[] {
    return this.view.evidence.services.filter((s) => !hasMetrics(s)).map((s) => s.name);
  }

  contract(e: Endpoint | ServiceInfo): TelemetryContract {
    return this.view.contract("service" in e ? e.service : e);
  }

  /** The endpoint's request counter; undefined when its contract names none (client metrics are optional). */
  counter(e: Endpoint): MetricContract | undefined {
    return this.contract(e)[roleOf(e.protocol, e.side, "counter").key];
  }

  histogram(e: Endpoint): MetricContract | undefined {
    return this.contract(e)[roleOf(e.protocol, e.side, "histogram").key];
  }

  codeKey(e: Endpoint): string {
    return codeKeyOf(this.contract(e), e.protocol);
  }

  /** The endpoint's status form: the coarsest its counter and histogram label (statusForm). */
  form(e: Endpoint): StatusForm {
    return statusForm(e.protocol, [this.counter(e), this.histogram(e)]);
  }

  /** A code the driver, a span or a table gives, as the endpoint's series are compared ("201" -> "2xx"). */
  code(e: Endpoint, code: string): string {
    return inForm(code, this.form(e), e.protocol);
  }

  /** The code a series of the endpoint records, in the endpoint's form (gRPC in UPPER_SNAKE). */
  codeOf(e: Endpoint, labels: Labels): string {
    return this.code(e, seriesCode(this.contract(e), e.protocol, e.side, labels) ?? "?");
  }

  /** The operation a series belongs to, named as spans are: see the class comment. */
  operationOf(e: Endpoint, labels: Labels): string {
    const contract = this.contract(e);
    const l = contract.labels;
    if (e.protocol === "grpc")
      return l.grpcService === undefined
        ? String(labels[l.grpcMethod])
        : `${labels[l.grpcService]}/${labels[l.grpcMethod]}`;
    const method = l.httpMethod === undefined ? undefined : labels[l.httpMethod];
    return httpOperation(contract, method, String(labels[e.side === "server" ? l.httpRoute : l.peerService]));
  }

  /** The peer an HTTP client operation names ("payments" of "POST payments"). */
  peerOf(e: Endpoint, operation: string): string {
    return this.contract(e).labels.httpMethod === undefined ? operation : operation.slice(operation.indexOf(" ") + 1);
  }

  /** A driver's or scenario's "METHOD /route" (or gRPC method) in the endpoint's operation form. */
  operation(e: Endpoint, route: string): string {
    return asOperation(this.contract(e), e.protocol, route);
  }

  /**
   * Selector of an endpoint's series of one of its metrics (`part` of a histogram): series lacking a key the judge
   * reads left out, and HTTP server probe routes unless `probeRoutes`.
   */
  select(e: Endpoint, kind: "counter" | "histogram", part = "", options: { probeRoutes?: boolean } = {}): Selector {
    const l = this.contract(e).labels;
    const metric = this[kind](e);
    if (!metric) return { name: "", where: {}, exclude: () => true };
    const probeRoute = e.protocol === "http" && e.side === "server" && !options.probeRoutes;
    return {
      name: `${metric.name}${part}`,
      where: { [l.instance]: e.service.instance },
      exclude: (labels: Labels) =>
        this.lacksKeys(e, kind, labels) || (probeRoute && this.excluded.has(labels[l.httpRoute] ?? "")),
    };
  }

  /** Whether a series of the endpoint's metric lacks a key the judge reads (it is left out, hygiene names it). */
  lacksKeys(e: Endpoint, kind: "counter" | "histogram", labels: Labels): boolean {
    const metric = this[kind](e);
    if (!metric) return true;
    return requiredKeys(this.contract(e), roleOf(e.protocol, e.side, kind), metric).some(
      (k) => labels[k] === undefined,
    );
  }

  /**
   * The last values of each earlier life of a service's process (a kill or restart journaled them): its counters
   * restart at 0 with every new process.
   */
  lives(service: ServiceInfo): MetricSample[][] {
    return this.view.evidence.faults
      .filter((f) => f.target === service.name && f.lastSamples)
      .sort((a, b) => a.appliedAtMs - b.appliedAtMs)
      .map((f) => f.lastSamples!);
  }

  /** An endpoint's counter increase over the run (across restarts), by "operation|code" (computed once per run). */
  counterTally(e: Endpoint): Tally {
    return this.view.memo(`counter ${endpointKey(e)}`, () => {
      const counter = this.counter(e);
      if (!counter || !hasMetrics(e.service)) return new Map();
      return deltaAcrossLives(
        this.start,
        this.lives(e.service),
        this.end,
        this.select(e, "counter"),
        (l) => `${this.operationOf(e, l)}|${this.codeOf(e, l)}`,
      );
    });
  }

  /** Increase of an endpoint's histogram part (`_count`, `_sum`, `_bucket`) by "operation|code" (and "|le"). */
  histogramTally(e: Endpoint, part: "_count" | "_sum" | "_bucket"): Tally {
    return this.view.memo(`histogram${part} ${endpointKey(e)}`, () => {
      const histogram = this.histogram(e);
      if (!histogram || !hasMetrics(e.service)) return new Map();
      return deltaAcrossLives(this.start, this.lives(e.service), this.end, this.select(e, "histogram", part), (l) => {
        const key = `${this.operationOf(e, l)}|${this.codeOf(e, l)}`;
        return part === "_bucket" ? `${key}|${l.le}` : key;
      });
    });
  }

  /** The value of one series per service at the end (runtime gauges). */
  latest(service: ServiceInfo, name: string, samples = this.end): MetricSample[] {
    if (!hasMetrics(service)) return [];
    return select(samples, { name, where: { [this.contract(service).labels.instance]: service.instance } });
  }

  /** Every endpoint the topology implies for the planned routes: servers of hops and the edge, callers of hops. */
  plannedEndpoints(): Endpoint[] {
    const out = new Map<string, Endpoint>();
    const add = (name: string, protocol: string, side: Side) => {
      const service = this.view.service(name);
      if (!service || (protocol !== "http" && protocol !== "grpc")) return;
      const e: Endpoint = { service, protocol, side };
      out.set(endpointKey(e), e);
    };
    if (this.view.edge) add(this.view.edge.name, "http", "server");
    for (const hop of this.view.plannedHops()) {
      add(hop.from, hop.protocol, "client");
      add(hop.to, hop.protocol, "server");
    }
    return [...out.values()];
  }

  /** The planned endpoints that have what `needs` names, and why each other one is left out. */
  judgeable(needs: readonly Need[]): Judgeable {
    const endpoints: Endpoint[] = [];
    const leftOut: Record<string, string> = {};
    for (const e of this.plannedEndpoints()) {
      const why = this.unjudgeable(e, needs);
      if (why) leftOut[endpointKey(e)] = why;
      else endpoints.push(e);
    }
    return { endpoints, leftOut };
  }

  /** Why an endpoint lacks what `needs` names (what is missing and where it would be declared), or undefined. */
  unjudgeable(e: Endpoint, needs: readonly Need[]): string | undefined {
    if (!hasMetrics(e.service)) return noMetricsReason([e.service.name]);
    const contract = this.contract(e);
    const missing = (kind: "counter" | "histogram") =>
      needs.includes(kind) && this[kind](e) === undefined ? roleOf(e.protocol, e.side, kind) : undefined;
    const role: MetricRole | undefined = missing("counter") ?? missing("histogram");
    if (role) return `contract "${contract.name}" of ${e.service.name} names no ${role.key}`;
    const counter = this.counter(e);
    const histogram = this.histogram(e);
    if (needs.includes("own-counter") && counter && histogram && counter.name === `${histogram.name}_count`)
      return `${endpointKey(e)}'s counter is its histogram's own ${counter.name}: nothing separate to compare`;
    if (needs.includes("peers") && this.peerless(e))
      return `${e.service.name}'s ${contract.labels.peerService} label names no service of the run (${this.peers(e).slice(0, 3).join(", ")}): its calls cannot be put on hops`;
    return undefined;
  }

  /** The peers an HTTP client's counter series name. */
  private peers(e: Endpoint): string[] {
    const counter = this.counter(e);
    if (e.protocol !== "http" || e.side !== "client" || !counter) return [];
    const key = this.contract(e).labels.peerService;
    return [...new Set(select(this.end, this.select(e, "counter")).map((s) => s.labels[key]!))].sort();
  }

  /** Whether an HTTP client's series name peers and none is a service of the run (an address, not a name). */
  private peerless(e: Endpoint): boolean {
    const peers = this.peers(e);
    return peers.length > 0 && !peers.some((p) => this.view.service(p) !== undefined);
  }
}

/** A span's durations by endpoint and "operation|code", from the traces of the run's sampled requests. */
export interface SpanTally {
  counts: Map<string, Tally>;
  /** Durations in seconds, same keys. */
  durations: Map<string, Map<string, number[]>>;
  /** Start times in ms, same keys and order. */
  startsMs: Map<string, Map<string, number[]>>;
}

/**
 * Tallies the server and client spans of every traced request per endpoint, operation and code — the trace side of
 * the span/counter reconciliation. Client spans on no hop are tallied with peer "?", so they disagree visibly.
 */
export function tallySpans(metrics: MetricView): SpanTally {
  return metrics.view.traceMemo("span tally", () => computeSpanTally(metrics.view));
}

/**
 * A span's operation, named as MetricView.operationOf names its service's series (gRPC path, "METHOD /route",
 * "METHOD peer"; the route or peer alone when the service's contract has no method label).
 */
export function spanOperation(view: RunView, p: PlacedSpan): string | undefined {
  const span = p.span;
  if (view.reader.protocol(span) === "grpc") return view.reader.rpcOperation(span);
  const contract = view.contract(span.service);
  const method = String(span.attributes[view.reader.keys(span).httpMethod]);
  if (span.kind === "client") return httpOperation(contract, method, p.peer ?? "?");
  if (contract.labels.httpMethod !== undefined) return view.reader.httpRoute(span);
  const route = span.attributes[view.reader.keys(span).httpRoute];
  return route === undefined ? undefined : String(route);
}

/** A span's code in the status form of its service's endpoint (spanTally keys and exemplars compare by it). */
export function spanCode(view: RunView, e: Pick<Endpoint, "service" | "protocol" | "side">, span: PlacedSpan["span"]) {
  const c = view.contract(e.service);
  const role = (kind: "counter" | "histogram") => c[roleOf(e.protocol, e.side, kind).key];
  const form = statusForm(e.protocol, [role("counter"), role("histogram")]);
  return inForm(view.reader.code(span) ?? NO_RESPONSE, form, e.protocol);
}

function computeSpanTally(view: RunView): SpanTally {
  const counts = new Map<string, Tally>();
  const durations = new Map<string, Map<string, number[]>>();
  const startsMs = new Map<string, Map<string, number[]>>();
  const push = (to: Map<string, Map<string, number[]>>, ek: string, key: string, value: number) => {
    const byKey = to.get(ek) ?? new Map<string, number[]>();
    to.set(ek, byKey);
    const list = byKey.get(key);
    if (list) list.push(value);
    else byKey.set(key, [value]);
  };
  for (const r of view.requests) {
    for (const p of r.placed) {
      const span = p.span;
      const protocol = view.reader.protocol(span);
      if ((protocol !== "http" && protocol !== "grpc") || (span.kind !== "server" && span.kind !== "client")) continue;
      const service = view.service(span.service);
      if (!service) continue;
      const e: Endpoint = { service, protocol, side: span.kind };
      const key = `${spanOperation(view, p) ?? "?"}|${spanCode(view, e, span)}`;
      const ek = endpointKey(e);
      const tally = counts.get(ek) ?? new Map<string, number>();
      tally.set(key, (tally.get(key) ?? 0) + 1);
      counts.set(ek, tally);
      push(durations, ek, key, span.durationUs / 1e6);
      push(startsMs, ek, key, span.startTimeUs / 1000);
    }
  }
  return { counts, durations, startsMs };
}
