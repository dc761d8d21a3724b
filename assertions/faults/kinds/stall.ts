import { z } from "zod";
import { defineFault } from "../descriptor";
import { stall } from "../measure";

/** Blocks a service's event loop for blockMs every everyMs. */
export const stallFault = defineFault({
  kind: "stall",
  summary: "blocks a service's event loop for blockMs every everyMs",
  params: z
    .strictObject({ blockMs: z.number().int().min(1).max(5000), everyMs: z.number().int().max(60_000) })
    .refine((p) => p.everyMs > p.blockMs, { message: "everyMs must be greater than blockMs" }),
  site: "service",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  signature: { runtime: "event-loop" },
  measure: (view, fault, p) => stall(view, fault, p.blockMs, p.everyMs),
});
