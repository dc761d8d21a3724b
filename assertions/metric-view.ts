import type { MetricContract, TelemetryContract } from "./contract";
import type { MetricSample, ServiceInfo } from "./evidence";
import { DEFAULT_EXCLUDED_ROUTES } from "./expectations";
import { deltaAcrossLives, select, type Labels, type Selector } from "./metric-query";
import type { PlacedSpan, RunView } from "./run-view";
import { NO_RESPONSE } from "./trace-index";

export type Side = "server" | "client";
export type Protocol = "http" | "grpc";

/** One side of one protocol of one service: where RED series live. */
export interface Endpoint {
  service: ServiceInfo;
  protocol: Protocol;
  side: Side;
}

/** Per operation and code, a tally: "POST /api/checkout|502" -> n (operation as `operationOf` names it). */
export type Tally = Map<string, number>;

export function endpointKey(e: Endpoint): string {
  return `${e.service.name} ${e.protocol} ${e.side}`;
}

/** The run's one MetricView (its tallies are computed once and shared by every family). */
export function metricView(view: RunView): MetricView {
  return view.memo("metric view", () => new MetricView(view));
}

/**
 * Reads one run's RED metrics through each service's contract. Operations are named alike on both sides of the
 * comparison: HTTP server "METHOD /route", HTTP client "METHOD peer", gRPC "pkg.Service/Method".
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

  contract(e: Endpoint | ServiceInfo): TelemetryContract {
    return this.view.contract("service" in e ? e.service : e);
  }

  counter(e: Endpoint): MetricContract {
    const c = this.contract(e);
    if (e.protocol === "grpc") return e.side === "server" ? c.grpcServerHandled : c.grpcClientHandled;
    return e.side === "server" ? c.httpServerRequests : c.httpClientRequests;
  }

  histogram(e: Endpoint): MetricContract {
    const c = this.contract(e);
    if (e.protocol === "grpc") return e.side === "server" ? c.grpcServerHandling : c.grpcClientHandling;
    return e.side === "server" ? c.httpServerDuration : c.httpClientDuration;
  }

  codeKey(e: Endpoint): string {
    const l = this.contract(e).labels;
    return e.protocol === "grpc" ? l.grpcCode : l.httpStatusCode;
  }

  /** The operation a series belongs to, named as spans are: see the class comment. */
  operationOf(e: Endpoint, labels: Labels): string {
    const l = this.contract(e).labels;
    if (e.protocol === "grpc") return `${labels[l.grpcService]}/${labels[l.grpcMethod]}`;
    if (e.side === "server") return `${labels[l.httpMethod]} ${labels[l.httpRoute]}`;
    return `${labels[l.httpMethod]} ${labels[l.peerService]}`;
  }

  /** Selector of an endpoint's series of `name`; HTTP server probe routes left out. */
  select(e: Endpoint, name: string, where: Labels = {}): Selector {
    const l = this.contract(e).labels;
    const exclude =
      e.protocol === "http" && e.side === "server"
        ? (labels: Labels) => this.excluded.has(labels[l.httpRoute] ?? "")
        : undefined;
    return { name, where: { ...where, [l.instance]: e.service.instance }, exclude };
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
      const codeKey = this.codeKey(e);
      return deltaAcrossLives(
        this.start,
        this.lives(e.service),
        this.end,
        this.select(e, this.counter(e).name),
        (l) => `${this.operationOf(e, l)}|${l[codeKey]}`,
      );
    });
  }

  /** Increase of an endpoint's histogram part (`_count`, `_sum`, `_bucket`) by "operation|code" (and "|le"). */
  histogramTally(e: Endpoint, part: "_count" | "_sum" | "_bucket"): Tally {
    return this.view.memo(`histogram${part} ${endpointKey(e)}`, () => {
      const codeKey = this.codeKey(e);
      return deltaAcrossLives(
        this.start,
        this.lives(e.service),
        this.end,
        this.select(e, `${this.histogram(e).name}${part}`),
        (l) => {
          const key = `${this.operationOf(e, l)}|${l[codeKey]}`;
          return part === "_bucket" ? `${key}|${l.le}` : key;
        },
      );
    });
  }

  /** The value of one series per service at the end (runtime gauges). */
  latest(service: ServiceInfo, name: string, samples = this.end): MetricSample[] {
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
}

/** A span's durations by endpoint and "operation|code", from the traces of the run's sampled requests. */
export interface SpanTally {
  counts: Map<string, Tally>;
  /** Durations in seconds, same keys. */
  durations: Map<string, Map<string, number[]>>;
}

/**
 * Tallies the server and client spans of every traced request per endpoint, operation and code — the trace side of
 * the span/counter reconciliation. Client spans on no hop are tallied with peer "?", so they disagree visibly.
 */
export function tallySpans(metrics: MetricView): SpanTally {
  return metrics.view.traceMemo("span tally", () => computeSpanTally(metrics.view));
}

/** A span's operation, named as MetricView.operationOf names its series' (gRPC path, HTTP route, "METHOD peer"). */
export function spanOperation(view: RunView, p: PlacedSpan): string | undefined {
  const span = p.span;
  if (view.reader.protocol(span) === "grpc") return view.reader.rpcOperation(span);
  return span.kind === "server"
    ? view.reader.httpRoute(span)
    : `${String(span.attributes[view.reader.keys(span).httpMethod])} ${p.peer ?? "?"}`;
}

function computeSpanTally(view: RunView): SpanTally {
  const counts = new Map<string, Tally>();
  const durations = new Map<string, Map<string, number[]>>();
  for (const r of view.requests) {
    for (const p of r.placed) {
      const span = p.span;
      const protocol = view.reader.protocol(span);
      if ((protocol !== "http" && protocol !== "grpc") || (span.kind !== "server" && span.kind !== "client")) continue;
      const service = view.service(span.service);
      if (!service) continue;
      const e: Endpoint = { service, protocol, side: span.kind };
      const key = `${spanOperation(view, p) ?? "?"}|${view.reader.code(span) ?? NO_RESPONSE}`;
      const ek = endpointKey(e);
      const tally = counts.get(ek) ?? new Map<string, number>();
      tally.set(key, (tally.get(key) ?? 0) + 1);
      counts.set(ek, tally);
      const byKey = durations.get(ek) ?? new Map<string, number[]>();
      durations.set(ek, byKey);
      const list = byKey.get(key);
      if (list) list.push(span.durationUs / 1e6);
      else byKey.set(key, [span.durationUs / 1e6]);
    }
  }
  return { counts, durations };
}
