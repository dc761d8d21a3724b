import { z } from "zod";
import { defineFault } from "../descriptor";
import { overload } from "../measure";

/** The load beyond the mesh's capacity, declared as the cause of the failures it brings (nothing is injected). */
export const overloadFault = defineFault({
  kind: "overload",
  summary: "the load beyond capacity: failures in its window are its, at any hop",
  // The p99 past which the mesh counts as overloaded: its own capacity bound (250 ms for a fast mesh).
  params: z.strictObject({ p99BoundMs: z.number().positive().optional() }),
  site: "edge",
  // A request queued in it may end up to the gateway's 5 s timeout (and the driver's) after it ended.
  effect: { fails: "may", graceMs: 10_000, serverSpan: "optional", shapeUnknown: true },
  measure: (view, fault, p) => overload(view, fault, p.p99BoundMs),
});
