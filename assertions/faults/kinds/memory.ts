import { z } from "zod";
import { defineFault } from "../descriptor";
import { memoryHeld } from "../measure";

/** Holds `mb` MB of a service's memory. */
export const memoryFault = defineFault({
  kind: "memory",
  summary: "holds mb MB of a service's memory",
  params: z.strictObject({ mb: z.number().int().min(1).max(4096) }),
  site: "service",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  signature: { runtime: "heap" },
  measure: (view, fault, p) => memoryHeld(view, fault, p.mb),
});
