import { z } from "zod";
import { defineFault } from "../descriptor";
import { addedLatency } from "../measure";

/** Adds latency on a link. */
export const linkLatencyFault = defineFault({
  kind: "link-latency",
  summary: "adds latency on a link",
  params: z.strictObject({ ms: z.number().positive() }),
  site: "link",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  signature: { latency: true },
  measure: (view, fault, p) => addedLatency(view, fault, p.ms, `+${p.ms} ms on the ${fault.target} link`),
});
