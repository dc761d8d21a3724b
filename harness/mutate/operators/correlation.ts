import type { MutationOperator } from "../../../assertions/mutation";
import { hex, tracedRequests } from "../../../assertions/mutation-support";

// Correlation operators: log lines and exemplars that lose or misname their trace.

/** Removes the trace id from one log line of a traced request. */
export const dropLogTraceId: MutationOperator = {
  name: "drop-log-trace-id",
  family: "correlation",
  models: "a log line written outside the request's context (no trace id)",
  killedBy: "correlation.logs",
  apply(e, rng) {
    // Lines of traced requests only: an unsampled request's lines carry no trace id to lose.
    const ids = new Set(tracedRequests(e).map((r) => r.id));
    const service = rng.pick(Object.keys(e.logs));
    const key = e.services.find((s) => s.name === service)?.contract.logs;
    const requestId = key?.requestId;
    if (!service || !key || requestId === undefined) return undefined;
    const victim = rng.pick(
      e.logs[service]!.filter(
        (l) => typeof l[requestId] === "string" && ids.has(l[requestId] as string) && l[key.traceId],
      ),
    );
    if (!victim) return undefined;
    const { [key.traceId]: _dropped, ...rest } = victim;
    return {
      evidence: { ...e, logs: { ...e.logs, [service]: e.logs[service]!.map((l) => (l === victim ? rest : l)) } },
      change: `${service} log line of request ${String(victim[requestId])} lost its ${key.traceId}`,
    };
  },
};

/** Points one exemplar at a trace id no trace holds. */
export const exemplarToMissingTrace: MutationOperator = {
  name: "exemplar-to-missing-trace",
  family: "correlation",
  models: "an exemplar taken from a stale or unsampled context",
  killedBy: "correlation.exemplars",
  apply(e, rng) {
    const victim = rng.pick(e.metrics.exemplars);
    if (!victim) return undefined;
    const traceId = hex(rng, 32);
    return {
      evidence: {
        ...e,
        metrics: { ...e.metrics, exemplars: e.metrics.exemplars.map((x) => (x === victim ? { ...x, traceId } : x)) },
      },
      change: `exemplar of ${victim.name} points at ${traceId}`,
    };
  },
};
