import { z } from "zod";
import { defineFault } from "../descriptor";
import { failures } from "../measure";

/** Stops all data on a link; connections close after timeoutMs (0: only when the fault ends). */
export const linkTimeoutFault = defineFault({
  kind: "link-timeout",
  summary: "stops all data on a link; connections close after timeoutMs (0: when the fault ends)",
  params: z.strictObject({ timeoutMs: z.number().nonnegative() }),
  site: "link",
  // No data either way until the client's deadline or timeout (an HTTP client's 5 s) gives up.
  effect: { fails: true, graceMs: 5_000, serverSpan: "absent", grpcCodes: ["DEADLINE_EXCEEDED", "UNAVAILABLE"] },
  measure: (view, fault, p) => failures(view, fault, `no data on the ${fault.target} link (timeout ${p.timeoutMs} ms)`),
});
