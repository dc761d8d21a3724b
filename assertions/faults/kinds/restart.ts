import { z } from "zod";
import type { MutationOperator } from "../../mutation";
import { defineFault } from "../descriptor";
import { replaced } from "../measure";

/** Turns a restarted service's draining /readyz answers into refused connections. */
const readyzNeverDraining: MutationOperator = {
  name: "readyz-never-draining",
  family: "probes",
  models: "a SIGTERM handler that closes the listener at once, without turning readiness off first",
  killedBy: "probes.graceful-drain",
  apply(e) {
    const restarted = new Set(e.faults.filter((f) => f.kind === "restart").map((f) => f.target));
    const draining = e.probes.filter(
      (p) => restarted.has(p.service) && p.probe === "readyz" && p.status === 503 && p.body?.checks.draining,
    );
    if (!draining.length) return undefined;
    const refused = { status: 0, body: undefined, outcome: "refused" as const, error: "probe failed: ECONNREFUSED" };
    return {
      evidence: { ...e, probes: e.probes.map((p) => (draining.includes(p) ? { ...p, ...refused } : p)) },
      change: `${draining.length} draining /readyz answers of ${[...restarted].join(", ")} turned refused`,
    };
  },
};

/** Restarts a service gracefully (SIGTERM: it drains, exits, and starts again). */
export const restartFault = defineFault({
  kind: "restart",
  summary: "restarts a service gracefully (SIGTERM: it drains, then starts again)",
  params: z.strictObject({}),
  site: "process",
  // Calls in flight finish; new ones are refused until it is back.
  effect: { fails: true, graceMs: 2_000, serverSpan: "optional", grpcCodes: ["UNAVAILABLE"], reconnects: true },
  signature: { newLife: true, drains: true },
  operators: [readyzNeverDraining],
  measure: (view, fault) => replaced(view, fault, `${fault.target} restarted gracefully`),
});
