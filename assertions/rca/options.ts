import type { Topology } from "../expectations";

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
  /**
   * A service's share of the mesh's CPU must rise this much over its steady share (and its CPU by cpuCoresRise) for a
   * runtime window. Default 0.3: over ten catalog runs here, no service without a fault rose more than 0.27 in any
   * interval (one 1 s scrape interval of a 20 req/s baseline is noisy), and a CPU or stall fault's target at least 0.40.
   */
  cpuShareRise?: number;
  /** Default 0.2 cores: a quarter-core burn is the smallest CPU fault the catalog or rca:bench injects. */
  cpuCoresRise?: number;
  /**
   * Or: a service's CPU beyond what the rest of the mesh's CPU predicts from steady state (the load scaled), at least
   * this many cores (default 0.3) and this share of the mesh's CPU (default 0.4). For a busy service (the edge) whose
   * steady share is already large. Over twelve catalog runs here no service without a fault had both (the load
   * scenario's busiest: 0.35 cores at 0.32); the CPU and stall targets had 0.26-0.65 cores at 0.41-0.73.
   */
  cpuExcessCores?: number;
  cpuExcessShare?: number;
  /**
   * Or: a share rise of 0.2 with 0.15 cores, held over two scrape intervals in a row. Over the same runs and a
   * five-run rca:bench, no service without a fault held both (the nearest: 0.25 with no CPU rise, a killed service's
   * caller; 0.11 with 0.35 cores under load), and a quarter-core burn on a busy leaf did (0.28 and 0.25 cores: one
   * interval's 0.29 missed the single-interval bound).
   */
  cpuSustainedShareRise?: number;
  cpuSustainedCoresRise?: number;
  /**
   * A heap rise in one scrape interval this large (default 32 MiB)... over ten catalog runs here the largest rise
   * without a memory fault was 33 MB (saturation, at about 80 KB per request), the smallest with one 40 MB.
   */
  heapRiseBytes?: number;
  /** ...and this much per request started in the interval (default 512 KiB: a memory fault's was 2 MB and more). */
  heapBytesPerRequest?: number;
  /** The route topology (expectations.topology): names the callee of an HTTP client span that has no server child. */
  topology?: Topology;
}

export type Tuning = Required<Omit<RcaOptions, "topology">>;

export const DEFAULTS: Tuning = {
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
  cpuShareRise: 0.3,
  cpuCoresRise: 0.2,
  cpuExcessCores: 0.3,
  cpuExcessShare: 0.4,
  cpuSustainedShareRise: 0.2,
  cpuSustainedCoresRise: 0.15,
  heapRiseBytes: 32 * 2 ** 20,
  heapBytesPerRequest: 512 * 2 ** 10,
};
