import { z } from "zod";
import type { MutationOperator } from "../../mutation";
import { tracedRequests, withTrace } from "../../mutation-support";
import { isSuccess } from "../../trace-shape";
import { defineFault } from "../descriptor";
import { replaced } from "../measure";

/** Removes a killed service's spans from a successful trace that ended before the flush before the kill. */
const spansLostBeforeKill: MutationOperator = {
  name: "spans-lost-before-kill",
  family: "traces",
  models: "a killed service's spans missing for a call that ended before the flush before the kill (lost, not killed)",
  killedBy: "traces.complete",
  apply(e, rng) {
    const kill = e.faults.find((f) => f.kind === "kill");
    if (!kill) return undefined;
    const flushedAt = kill.spansLostFromMs ?? kill.appliedAtMs;
    const r = rng.pick(
      tracedRequests(
        e,
        (r) =>
          isSuccess(r.status) &&
          r.endMs < flushedAt &&
          e.traces[r.traceId]!.spans.some((s) => s.service === kill.target),
      ),
    );
    if (!r) return undefined;
    return {
      evidence: withTrace(e, r.traceId, (spans) => spans.filter((s) => s.service !== kill.target)),
      change: `dropped the ${kill.target} spans of trace ${r.traceId}, which ended ${flushedAt - r.endMs} ms before the flush before the kill`,
    };
  },
};

/** Kills a service (SIGKILL) and starts it again at the fault's end. */
export const killFault = defineFault({
  kind: "kill",
  summary: "kills a service (SIGKILL) and starts it again at the fault's end",
  params: z.strictObject({}),
  site: "process",
  // Calls in flight lose their server span with the process; later ones are refused until it is back.
  effect: { fails: true, graceMs: 2_000, serverSpan: "absent", grpcCodes: ["UNAVAILABLE"], reconnects: true },
  signature: { newLife: true },
  operators: [spansLostBeforeKill],
  measure: (view, fault) =>
    replaced(
      view,
      fault,
      `${fault.target} killed, started again after ${fault.revertedAtMs ? fault.revertedAtMs - fault.appliedAtMs : "?"} ms`,
    ),
});
