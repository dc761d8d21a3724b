/** The localisation's result: windows, their suspects and the suspects' runtime (verdict.json's `rca`). */

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
  /** For a call suspect: "caller -> callee" (see RcaContext.call). */
  via?: string;
  /** 0..1: 0.7 x trace share + 0.3 / metric rank, either alone when the other has nothing to say (rankSuspects). */
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

/**
 * A stretch of time where one service's runtime moved away from its own steady state: its share of the mesh's CPU, or
 * a heap rise far above what the interval's requests allocate. Found with no route moving too.
 */
export interface RuntimeWindow {
  service: string;
  startMs: number;
  endMs: number;
  signals: ("cpu" | "heap")[];
  /** The service's share of the mesh's CPU (highest in the window) and cores, against steady state. */
  cpu?: { share: number; steadyShare: number; cores: number; steadyCores: number };
  /** The largest rise of its heap in one scrape interval. */
  heap?: { riseBytes: number };
  /** 0..1: the share rise over 0.5 or the heap rise over 128 MiB, whichever is larger. */
  score: number;
  /** A deeper service whose runtime window began no later: this one is ranked as its consequence (score halved). */
  consequenceOf?: string;
  /** The service itself, with its runtime. */
  suspects: Suspect[];
}

/** One scenario's localisation. */
export interface RcaResult {
  windows: RcaWindow[];
  /** Runtime windows (absent in verdicts written before they were found). */
  runtimeWindows?: RuntimeWindow[];
  /** What the evidence allowed and did not (e.g. no RED range series: suspects ranked from traces alone). */
  notes: string[];
}
