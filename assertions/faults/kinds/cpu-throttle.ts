import { z } from "zod";
import { defineFault } from "../descriptor";
import { cpuCapped } from "../measure";

/** Caps a service's process at `fraction` of one core from outside (a cgroup's CPU quota). */
export const cpuThrottleFault = defineFault({
  kind: "cpu-throttle",
  summary: "caps a service's process at fraction of one core (a cgroup CPU quota)",
  params: z.strictObject({ fraction: z.number().min(0.05).max(1) }),
  site: "service",
  // Starved of CPU, it answers late; below every deadline nothing fails.
  effect: { fails: false, graceMs: 0, serverSpan: "present" },
  measure: (view, fault, p) => cpuCapped(view, fault, p.fraction),
});
