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

export { RcaContext, suspectKey } from "./context";
export type { Identity } from "./context";
export { localize } from "./localize";
export type { RcaResult, RcaWindow, RouteStats, RuntimeCompare, Suspect, SuspectRuntime } from "./model";
export { binomialTail } from "./numbers";
export type { RcaOptions } from "./options";
export { describeSuspect, faultRanking, faultTargetService, rcaScoreLine, scoreLocalization } from "./score";
export type { RcaMiss, RcaScore, ScoredRun } from "./score";
export { selfTimeUs } from "./suspects";
