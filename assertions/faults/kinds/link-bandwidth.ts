import { z } from "zod";
import { defineFault } from "../descriptor";
import { addedLatency } from "../measure";

/** Limits a link's bandwidth in both directions. */
export const linkBandwidthFault = defineFault({
  kind: "link-bandwidth",
  summary: "limits a link's bandwidth to kbPerSec in both directions",
  params: z.strictObject({ kbPerSec: z.number().positive() }),
  site: "link",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  measure: (view, fault, p) =>
    addedLatency(view, fault, undefined, `${fault.target} link limited to ${p.kbPerSec} KB/s`),
});
