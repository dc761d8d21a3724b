import type { AssertionResult } from "./evidence";

/**
 * Per assertion id, the instrumentation mistake that most often produces its failure: the mesh's negative controls
 * (services/README.md) model each of these, and a foreign mesh fails the same way for the same reason.
 */
export const HINTS: Readonly<Record<string, string>> = {
  "traces.complete":
    "spans lost or never started: an unsampled parent forced sampled downstream, or an exporter that drops",
  "traces.single-root": "a hop that starts a new trace instead of continuing the caller's (context not propagated)",
  "traces.no-orphans":
    "a span whose parent was never exported: a hop that lost its context, or a span ended unexported",
  "traces.hop-graph":
    "context not propagated across a hop (a callback, queue or pool that loses the async context), or spans dropped before export",
  "traces.client-server-pairs": "the callee did not continue the caller's trace, or its server span was lost",
  "traces.semconv": "spans without the semantic-convention attributes the contract names (http.*, rpc.*, db.*)",
  "traces.request-id": "request-id middleware that generates an id instead of propagating the incoming x-request-id",
  "traces.edge-status":
    "the edge span records a status other than the one sent: the status is set before the response is",
  "traces.no-error-on-success":
    "a span marked ERROR on a call that succeeded: an error recorded for a retried or ignored call",
  "traces.error-path":
    "ERROR not set on the spans a failure passes through, or set from the handler's return before errors run",
  "traces.sampling": "a sampler that ignores the parent's decision, or a root ratio other than the one configured",
  "traces.span-pipeline": "the span exporter's queue is too small or the process exits without flushing it",
  "metrics.unexplained-failures":
    "the mesh failed requests no injected fault explains: a real bug, or a retry storm after one",
  "metrics.edge-status-counts": "the edge counter's status label is read before the response status is final",
  "metrics.hop-agreement":
    "a client counter that counts only successful calls (recorded in the success callback), or a server that mislabels",
  "metrics.span-counter-agreement":
    "span status and counter label taken from different places: the status code attribute is set before errors run",
  "metrics.histogram-count": "the histogram and the counter are recorded on different code paths (one skips errors)",
  "metrics.status-labels":
    "middleware that reads the status before the error handler sets it: every failure counted as 200 / OK",
  "metrics.error-rate": "failures counted at a rate other than the one that happened: errors dropped or counted twice",
  "metrics.latency-shift": "latency measured around the wrong stretch of the call, or a histogram in the wrong unit",
  "probes.readiness-flip": "a readiness probe that only checks the process itself, not the dependencies it needs",
  "probes.liveness-flip":
    "a liveness probe that only checks that the process answers (a blocked event loop still passes)",
  "probes.liveness-stable": "a liveness probe that checks dependencies: a dependency outage restarts healthy pods",
  "probes.graceful-drain": "a SIGTERM handler that exits at once: no readiness 503 first, calls in flight cut",
  "probes.baseline-healthy": "a probe that fails without any fault: a check on something the service does not need",
  "runtime.up": "the scrape target is down or mislabelled (instance label not host:port of /metrics)",
  "runtime.heap": "heap gauges missing or frozen: default runtime metrics not collected",
  "runtime.gc": "GC metrics missing: collectDefaultMetrics() (or the Go collector) not registered",
  "runtime.event-loop": "a gauge set once at start-up instead of in its collect callback",
  "runtime.goroutines": "go_goroutines missing: the Go collector not registered on the registry served",
  "runtime.rss": "process metrics missing: the process collector not registered",
  "runtime.cpu": "process CPU counter missing or not moving with the load",
  "runtime.restarts": "process_start_time_seconds missing, or unchanged across a restart",
  "runtime.resource-faults": "a resource gauge that does not move with what the process holds or burns",
  "hygiene.contract-labels": "series without a label the contract names: a label set on some code paths only",
  "hygiene.naming": "metric names outside Prometheus conventions (a unit suffix, _total on counters)",
  "hygiene.cardinality": "a label carrying ids, raw paths or other unbounded values",
  "hygiene.contract-series": "metrics registered on a registry /metrics does not serve (two registries in one process)",
  "hygiene.route-labels": "the route label carries the raw path (req.path) where the router's template belongs",
  "hygiene.histograms":
    "durations in milliseconds fed to a _seconds histogram, or time counted past the caller's timeout",
  "correlation.logs": "log lines written outside the request's context: no trace id, span id or request id",
  "correlation.exemplars": "an exemplar's trace id kept in a variable shared across requests",
};

/**
 * How two failures must be related for one to explain the other: about the same service, about the same service's
 * server (or client) counters, or in the same traces.
 */
type Link = "service" | "server" | "client" | "trace";

/** A failure that explains another: when `cause` fails, a failure of `consequence` linked to it may be only its effect. */
export interface ExplainRule {
  cause: string;
  consequence: string;
  link: Link;
  why: string;
  /** A further condition on the two failures' evidence. */
  when?: (cause: AssertionResult, consequence: AssertionResult) => boolean;
}

const METRIC_TALLIES = [
  "metrics.edge-status-counts",
  "metrics.hop-agreement",
  "metrics.span-counter-agreement",
  "metrics.histogram-count",
  "metrics.status-labels",
  "metrics.error-rate",
  "metrics.latency-shift",
];

const rules = (
  cause: string,
  consequences: string[],
  link: Link,
  why: string,
  when?: ExplainRule["when"],
): ExplainRule[] => consequences.map((consequence) => ({ cause, consequence, link, why, ...(when ? { when } : {}) }));

/** traces.span-pipeline found a service whose SDK ended more spans than it exported (its exporter dropped them). */
function exporterDropped(a: AssertionResult): boolean {
  return Object.values(a.observed).some((o) => {
    const sdk = (o as { sdk?: { ended: number; exported: number } } | undefined)?.sdk;
    return sdk !== undefined && sdk.ended > sdk.exported;
  });
}

/** The rules, strongest cause first: an assertion is nested under the first rule whose cause failed and links to it. */
export const EXPLAIN_RULES: readonly ExplainRule[] = [
  ...rules(
    "hygiene.contract-series",
    [...METRIC_TALLIES, "runtime.heap", "runtime.gc", "runtime.event-loop", "runtime.rss", "runtime.cpu"],
    "service",
    "a series the contract names is missing, so every tally that reads it is short",
  ),
  ...rules(
    "hygiene.contract-labels",
    METRIC_TALLIES,
    "service",
    "series lacking a label the contract names are left out of every tally",
  ),
  ...rules(
    "hygiene.route-labels",
    ["metrics.edge-status-counts", "metrics.span-counter-agreement", "metrics.hop-agreement", "hygiene.cardinality"],
    "service",
    "calls counted under raw paths are not counted under their route",
  ),
  ...rules(
    "metrics.status-labels",
    [
      "metrics.hop-agreement",
      "metrics.span-counter-agreement",
      "metrics.edge-status-counts",
      "metrics.error-rate",
      "correlation.exemplars",
    ],
    "server",
    "a server counter that labels failures with the wrong code disagrees with every other count of the same calls",
  ),
  ...rules(
    "metrics.hop-agreement",
    ["metrics.status-labels", "metrics.span-counter-agreement", "metrics.error-rate"],
    "client",
    "a client counter that misses or mislabels calls its server counted disagrees with every count of them",
  ),
  ...rules(
    "hygiene.histograms",
    ["metrics.latency-shift", "metrics.histogram-count"],
    "service",
    "a histogram in the wrong unit or span of time misplaces every call",
  ),
  ...rules(
    "traces.hop-graph",
    ["traces.single-root", "traces.no-orphans", "traces.client-server-pairs", "traces.complete", "traces.error-path"],
    "trace",
    "a hop missing from a trace also breaks its root, its pairs, its span count and its error path",
  ),
  ...rules(
    "traces.span-pipeline",
    ["traces.hop-graph"],
    "service",
    "spans its exporter dropped are missing from the traces that should hold them",
    (cause) => exporterDropped(cause),
  ),
  ...rules(
    "traces.hop-graph",
    ["traces.span-pipeline"],
    "service",
    "spans of a hop that lost its context are stored in traces of their own, not the requests'",
    (_, consequence) => !exporterDropped(consequence),
  ),
  ...rules(
    "traces.span-pipeline",
    ["traces.complete", "traces.client-server-pairs", "traces.no-orphans", "traces.single-root"],
    "service",
    "spans dropped before the store are missing from the traces that should hold them",
  ),
];

/** A failed assertion and the failed assertions it explains, each with the rule's reason. */
export interface FailureGroup {
  cause: AssertionResult;
  consequences: { assertion: AssertionResult; why: string }[];
}

/**
 * A scenario's failed assertions, the ones that explain others first with their consequences nested under them (the
 * first rule that links a failure to a failed cause; a cause explained by another moves under that one's root), then
 * the rest in the order they were judged.
 */
export function groupFailures(assertions: readonly AssertionResult[]): FailureGroup[] {
  const failed = assertions.filter((a) => a.status === "failed");
  const parent = new Map<AssertionResult, { cause: AssertionResult; why: string }>();
  for (const a of failed)
    for (const rule of EXPLAIN_RULES) {
      if (rule.consequence !== a.id) continue;
      const cause = failed.find((c) => c.id === rule.cause && linked(c, a, rule.link) && (rule.when?.(c, a) ?? true));
      if (cause && !explains(a, cause, parent)) {
        parent.set(a, { cause, why: rule.why });
        break;
      }
    }
  const rootOf = (a: AssertionResult): AssertionResult => {
    const p = parent.get(a);
    return p ? rootOf(p.cause) : a;
  };
  const groups = new Map<AssertionResult, FailureGroup>();
  for (const a of failed) {
    const root = rootOf(a);
    const group = groups.get(root) ?? { cause: root, consequences: [] };
    groups.set(root, group);
    if (root !== a) group.consequences.push({ assertion: a, why: parent.get(a)!.why });
  }
  return [...groups.values()].sort((x, y) => Number(y.consequences.length > 0) - Number(x.consequences.length > 0));
}

/** Whether `a` already explains `b`, directly or through others (no cycles). */
function explains(
  a: AssertionResult,
  b: AssertionResult,
  parent: ReadonlyMap<AssertionResult, { cause: AssertionResult }>,
): boolean {
  for (let at = parent.get(b); at; at = parent.get(at.cause)) if (at.cause === a) return true;
  return false;
}

/**
 * Whether two failures share what the rule's link asks: a service, a service's server (client) counters, or a trace.
 * evidence.services holds both "payments" and "payments server" (result.ts).
 */
function linked(cause: AssertionResult, consequence: AssertionResult, link: Link): boolean {
  const of = (a: AssertionResult): string[] => {
    if (link === "trace") return a.evidence?.traceIds ?? [];
    const services = a.evidence?.services ?? [];
    return link === "service"
      ? services.filter((s) => !s.includes(" "))
      : services.filter((s) => s.endsWith(` ${link}`));
  };
  const theirs = new Set(of(consequence));
  return of(cause).some((x) => theirs.has(x));
}
