import { faultEffect } from "./faults";
import { DEFAULT_CONTRACT, type TelemetryContract } from "./contract";
import type { Evidence, RequestRecord, ServiceInfo } from "./evidence";
import { clientService, type Expectations, type Hop } from "./expectations";
import { indexTrace, serverChildren, SpanReader, type IndexedTrace } from "./trace-index";
import type { Span, Trace } from "./trace-model";
import {
  expectedSpans,
  explainFailure,
  isSuccess,
  uncountedServices,
  unexportedServices,
  withoutUnexported,
  type ExpectedSpan,
  type Explanation,
} from "./trace-shape";

/** A span of a request's trace placed on its route: the hop it belongs to ("edge" for the edge server span). */
export interface PlacedSpan {
  span: Span;
  hop: number | "edge" | undefined;
  /** For client spans, who was called (a service or a db system); "?" when nothing tells. */
  peer?: string;
}

/** One request of the request log with everything the families read about it, computed once. */
export interface RequestView {
  request: RequestRecord;
  hops: readonly Hop[];
  success: boolean;
  /** Whether the driver's parent (or the edge's traceresponse) says this request's trace is sampled. */
  sampled: boolean;
  /** For a failed request: the journaled fault it is put down to, if any. */
  explanation?: Explanation;
  /**
   * The spans the trace must hold; undefined for an unexplained failure (its shape is unknown). The spans of a
   * service in `unexported` are not required.
   */
  expected?: ExpectedSpan[];
  /** Services whose spans of this request may have died unexported with their killed process (unexportedServices). */
  unexported: ReadonlySet<string>;
  /** Services whose counters may miss this request's calls: read from outside before they stopped (uncountedServices). */
  uncounted: ReadonlySet<string>;
  /**
   * Whether the trace may be missing altogether: a request the driver got no answer for under a fault that fails
   * calls anywhere (an overload: it may never have left the edge's accept queue, so nothing ever saw it).
   */
  traceOptional: boolean;
  /** The trace id the request's spans carry (sent, or learned from traceresponse). */
  traceId: string;
  trace?: IndexedTrace;
  /** Why there is no trace: never fetched, never found, or empty. */
  missing?: string;
  placed: PlacedSpan[];
}

/** What a run's request views are computed from: the same objects give the same views. */
interface ViewInputs {
  requests: readonly RequestRecord[];
  faults: Evidence["faults"];
  windowEndMs: number;
  services: readonly ServiceInfo[];
  topology: Expectations["topology"];
}

/**
 * Request views kept across judgements of evidence that shares objects: `npm run mutate` judges hundreds of mutants
 * of one run, each a copy of only what it changed. A mutant that left the requests, traces, faults, services and
 * topology alone reuses the run's request views and what was derived from them alone (`RunView.traceMemo`); one
 * that changed a trace re-indexes that trace only. Only for evidence never changed in place once judged.
 */
export class TraceCache {
  private readonly traces = new WeakMap<
    Trace,
    {
      parentSpanId?: string;
      hops: readonly Hop[];
      services: readonly ServiceInfo[];
      index: IndexedTrace;
      placed: PlacedSpan[];
    }
  >();
  private readonly runs = new WeakMap<
    Evidence["traces"],
    { inputs: ViewInputs; views: RequestView[]; memos: Map<string, unknown> }[]
  >();

  /** A trace indexed and placed: the cached result when the inputs are the very same objects, else `build`'s. */
  placed(
    trace: Trace,
    key: { parentSpanId?: string; hops: readonly Hop[]; services: readonly ServiceInfo[] },
    build: () => { index: IndexedTrace; placed: PlacedSpan[] },
  ): { index: IndexedTrace; placed: PlacedSpan[] } {
    const hit = this.traces.get(trace);
    if (hit && hit.parentSpanId === key.parentSpanId && hit.hops === key.hops && hit.services === key.services)
      return hit;
    const entry = { ...key, ...build() };
    this.traces.set(trace, entry);
    return entry;
  }

  /** A run's request views and their memos: cached for the same inputs (the last few per trace map), else built. */
  run(
    traces: Evidence["traces"],
    inputs: ViewInputs,
    build: () => RequestView[],
  ): { views: RequestView[]; memos: Map<string, unknown> } {
    const entries = this.runs.get(traces) ?? [];
    const same = (a: ViewInputs) => (Object.keys(inputs) as (keyof ViewInputs)[]).every((k) => a[k] === inputs[k]);
    const hit = entries.find((e) => same(e.inputs));
    if (hit) return hit;
    const entry = { inputs, views: build(), memos: new Map<string, unknown>() };
    this.runs.set(traces, [entry, ...entries.slice(0, 3)]);
    return entry;
  }
}

/**
 * What every family reads from one run, computed once: services and their contracts, a span reader, and per request
 * its fault explanation, expected trace shape and indexed trace with each span placed on a hop of its route.
 */
export class RunView {
  readonly reader: SpanReader;
  readonly edge: ServiceInfo | undefined;
  private readonly byName: Map<string, ServiceInfo>;
  private run: { views: RequestView[]; memos: Map<string, unknown> } | undefined;
  private readonly memos = new Map<string, unknown>();
  /** The trace shape of a successful request, by its route's hops: the same for every one. */
  private readonly successShapes = new Map<readonly Hop[], ExpectedSpan[]>();

  constructor(
    readonly evidence: Evidence,
    readonly expectations: Expectations,
    private readonly traceCache?: TraceCache,
  ) {
    this.byName = new Map(evidence.services.map((s) => [s.name, s]));
    this.edge = evidence.services.find((s) => s.role === "edge");
    // Spans reported under a name of their own are read through their process's contract.
    const reporters = new Map(
      Object.values(expectations.topology)
        .flat()
        .flatMap((h) => (h.reportedBy ? [[h.reportedBy, h.from] as const] : [])),
    );
    this.reader = new SpanReader((name) => this.byName.get(reporters.get(name) ?? name)?.contract);
  }

  /** Computes `fn` once per run for `key`: families share derived data (tallies, metric views) this way. */
  memo<T>(key: string, fn: () => T): T {
    return memoIn(this.memos, key, fn);
  }

  /**
   * memo() for data derived from the request views and services alone (span tallies): with a TraceCache, shared by
   * every judgement whose request views are the same.
   */
  traceMemo<T>(key: string, fn: () => T): T {
    return memoIn(this.views().memos, key, fn);
  }

  service(name: string): ServiceInfo | undefined {
    return this.byName.get(name);
  }

  contract(service: ServiceInfo | string): TelemetryContract {
    const info = typeof service === "string" ? this.byName.get(service) : service;
    return info?.contract ?? DEFAULT_CONTRACT;
  }

  /** Every distinct hop of the routes the plan sends traffic to (in topology order). */
  plannedHops(): Hop[] {
    const seen = new Map<string, Hop>();
    for (const [route, weight] of Object.entries(this.evidence.plan.routes)) {
      if (!(weight > 0)) continue;
      for (const hop of this.expectations.topology[route] ?? [])
        seen.set(`${hop.from}>${hop.to}>${hop.protocol}>${hop.method ?? ""}`, hop);
    }
    return [...seen.values()];
  }

  get requests(): RequestView[] {
    return this.views().views;
  }

  private views(): { views: RequestView[]; memos: Map<string, unknown> } {
    if (this.run) return this.run;
    const { evidence, expectations } = this;
    const build = () => evidence.requests.map((request) => this.view(request));
    const inputs = {
      requests: evidence.requests,
      faults: evidence.faults,
      windowEndMs: evidence.window.endMs,
      services: evidence.services,
      topology: expectations.topology,
    };
    return (this.run = this.traceCache?.run(evidence.traces, inputs, build) ?? { views: build(), memos: new Map() });
  }

  private view(request: RequestRecord): RequestView {
    const { evidence, expectations } = this;
    const hops = expectations.topology[request.route] ?? [];
    const success = isSuccess(request.status);
    const edge = this.edge?.name ?? "?";
    const explanation = success
      ? undefined
      : explainFailure(request, hops, evidence.faults, evidence.window.endMs, this.edge?.name);
    const sampled =
      request.parent === "unsampled" ? false : request.parent === "none" ? request.responseSampled === true : true;
    const traceId = request.parent === "none" ? (request.responseTraceId ?? request.traceId) : request.traceId;
    const unexported = unexportedServices(request, hops, evidence.faults, this.edge?.name);
    const shape = success
      ? this.successShape(hops, edge)
      : explanation && !faultEffect(explanation.fault)?.shapeUnknown
        ? expectedSpans(hops, edge, explanation)
        : undefined;
    const view: RequestView = {
      request,
      hops,
      success,
      sampled,
      explanation,
      expected: shape && withoutUnexported(shape, unexported),
      unexported,
      uncounted: uncountedServices(request, hops, evidence.faults),
      traceOptional:
        request.status === 0 && explanation !== undefined && !!faultEffect(explanation.fault)?.shapeUnknown,
      traceId,
      placed: [],
    };
    if (!(traceId in evidence.traces)) view.missing = "it was never fetched";
    else {
      const trace = evidence.traces[traceId];
      if (!trace) view.missing = "never found in the trace store before the deadline";
      else if (trace.spans.length === 0) view.missing = "the store returned it without spans";
      else {
        const build = () => {
          const index = indexTrace(trace, request.parentSpanId, this.edge?.name);
          return { index, placed: this.place(index, hops) };
        };
        const key = { parentSpanId: request.parentSpanId, hops, services: evidence.services };
        const { index, placed } = this.traceCache ? this.traceCache.placed(trace, key, build) : build();
        view.trace = index;
        view.placed = placed;
      }
    }
    return view;
  }

  private successShape(hops: readonly Hop[], edge: string): ExpectedSpan[] {
    let shape = this.successShapes.get(hops);
    if (!shape) this.successShapes.set(hops, (shape = expectedSpans(hops, edge, undefined)));
    return shape;
  }

  /** Puts every server and client span of a trace on the hop of the route it belongs to. */
  private place(index: IndexedTrace, hops: readonly Hop[]): PlacedSpan[] {
    const reader = this.reader;
    const placed = new Map<Span, PlacedSpan>();
    const clientHop = (span: Span): PlacedSpan => {
      const protocol = reader.protocol(span);
      const server = serverChildren(index, span)[0];
      const method = reader.rpcMethodName(span);
      // A client reporting under a name of its own (an in-process datastore client) is placed by that name, even
      // when its attributes do not say what it speaks.
      const candidates = hops
        .map((hop, i) => ({ hop, i }))
        .filter(
          ({ hop }) =>
            clientService(hop) === span.service &&
            (hop.protocol === protocol || (protocol === undefined && hop.reportedBy === span.service)) &&
            (server === undefined || hop.to === server.service) &&
            (method === undefined || hop.method === undefined || hop.method === method),
        );
      const peer =
        server?.service ??
        (protocol !== undefined && protocol !== "http" && protocol !== "grpc" ? protocol : candidates[0]?.hop.to);
      return { span, hop: candidates[0]?.i, peer: peer ?? "?" };
    };
    const root = index.roots.length === 1 ? index.roots[0] : undefined;
    for (const span of index.trace.spans) {
      if (span.kind === "client") placed.set(span, clientHop(span));
    }
    for (const span of index.trace.spans) {
      if (span.kind !== "server") continue;
      if (span === root && span.service === this.edge?.name) {
        placed.set(span, { span, hop: "edge" });
        continue;
      }
      const parent = span.parentSpanId === undefined ? undefined : index.byId.get(span.parentSpanId);
      const viaParent = parent && parent.kind === "client" ? placed.get(parent)?.hop : undefined;
      const hop =
        viaParent !== undefined && viaParent !== "edge" && hops[viaParent]?.to === span.service
          ? viaParent
          : (() => {
              const i = hops.findIndex((h) => h.to === span.service && h.protocol === reader.protocol(span));
              return i < 0 ? undefined : i;
            })();
      placed.set(span, { span, hop });
    }
    return [...placed.values()];
  }
}

function memoIn<T>(memos: Map<string, unknown>, key: string, fn: () => T): T {
  if (!memos.has(key)) memos.set(key, fn());
  return memos.get(key) as T;
}

/** "gateway server", "orders client -> payments", for messages. */
export function describeExpected(span: ExpectedSpan, hops: readonly Hop[]): string {
  if (span.hop === "edge") return `${span.service} server span (edge)`;
  const hop = hops[span.hop]!;
  return span.kind === "client"
    ? `${span.service} client span -> ${hop.to} (${hop.protocol}${hop.method ? ` ${hop.method}` : ""})`
    : `${span.service} server span <- ${hop.from} (${hop.protocol}${hop.method ? ` ${hop.method}` : ""})`;
}
