import { z } from "zod";
import { defineFault } from "../descriptor";
import { cpuBurnt } from "../measure";

/** Burns `fraction` of a core in a service's process. */
export const cpuFault = defineFault({
  kind: "cpu",
  summary: "burns fraction of a core in a service's process",
  params: z.strictObject({ fraction: z.number().min(0.05).max(1) }),
  site: "service",
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  signature: { runtime: "cpu" },
  measure: (view, fault, p) => cpuBurnt(view, fault, p.fraction),
});
