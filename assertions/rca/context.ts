import { DEFAULT_CONTRACT, type TelemetryContract } from "../contract";
import type { Evidence, MetricSeries, RequestRecord, ServiceInfo } from "../evidence";
import { DEFAULT_EXCLUDED_ROUTES, type Topology } from "../expectations";
import { grpcCodeName, httpOperation } from "../metric-labels";
import { indexTrace, serverChildren, SpanReader, type IndexedTrace } from "../trace-index";
import type { Span } from "../trace-model";
import { isSuccess } from "../trace-shape";
import { runtimeNames } from "./runtime";

/** Where a change is put: a service's operation, or a call into it (see RcaContext.call). */
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
export interface RedSeries {
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

  /**
   * The identity a call from `caller` to `peer` is put on when it failed or slowed before its server answered: the
   * callee when it is a mesh service (`via` "caller -> callee": the link or its listener), else the caller, the only
   * side with spans (a backend such as Redis: `via` "orders -> redis").
   */
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
            if (!h) continue;
            const part = series.name === `${h.name}_count` ? "_count" : series.name === `${h.name}_sum` ? "_sum" : "";
            if (!part) continue;
            const labels = series.labels;
            let identity: Identity;
            let code: string;
            if (protocol === "grpc") {
              const op =
                l.grpcService === undefined
                  ? String(labels[l.grpcMethod])
                  : `${labels[l.grpcService]}/${labels[l.grpcMethod]}`;
              code = grpcCodeName(labels[l.grpcCode] ?? "", c.grpcCodeSpelling);
              identity =
                side === "server"
                  ? { service: service.name, operation: op }
                  : this.call(service.name, this.rpcService(op.slice(0, op.lastIndexOf("/"))), op);
            } else {
              code = labels[l.httpStatusCode] ?? "";
              const method = l.httpMethod === undefined ? undefined : labels[l.httpMethod];
              if (side === "server") {
                if (excluded.has(labels[l.httpRoute] ?? "")) continue;
                identity = { service: service.name, operation: httpOperation(c, method, String(labels[l.httpRoute])) };
              } else {
                const peer = labels[l.peerService];
                identity = this.call(service.name, peer, httpOperation(c, method, peer ?? "?"));
              }
            }
            // A status class ("5xx") stands for its codes.
            const status = /^[1-5]xx$/.test(code) ? Number(code[0]) * 100 : Number(code);
            const error = protocol === "grpc" ? code !== "OK" : !isSuccess(status);
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
