import { z } from "zod";
import { defineFault } from "../descriptor";
import { addedLatency } from "../measure";

/** Adds latency to a service's calls (or one method's). */
export const latencyFault = defineFault({
  kind: "latency",
  summary: "adds latency to a service's calls",
  params: z.strictObject({ ms: z.number().positive(), jitterMs: z.number().nonnegative().optional() }),
  site: "method",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  signature: { latency: true },
  measure: (view, fault, p) => addedLatency(view, fault, p.ms, `+${p.ms} ms on ${fault.target}`),
});
