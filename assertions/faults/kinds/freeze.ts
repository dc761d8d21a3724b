import { z } from "zod";
import { defineFault } from "../descriptor";
import { frozen } from "../measure";

/** Freezes a service (SIGSTOP) for the fault's duration. */
export const freezeFault = defineFault({
  kind: "freeze",
  summary: "freezes a service (SIGSTOP) for the fault's duration",
  params: z.strictObject({}),
  site: "process",
  // Calls wait past their deadline; the server may finish them after the thaw, too late and OK.
  effect: { fails: true, graceMs: 2_000, serverSpan: "optional", grpcCodes: ["DEADLINE_EXCEEDED"] },
  signature: { pauses: true },
  measure: (view, fault) => frozen(view, fault),
});
