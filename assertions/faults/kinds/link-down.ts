import { z } from "zod";
import { defineFault } from "../descriptor";
import { failures } from "../measure";

/** Takes a link down: connections closed, new ones refused. */
export const linkDownFault = defineFault({
  kind: "link-down",
  summary: "takes a link down: connections closed, new ones refused",
  params: z.strictObject({}),
  site: "link",
  // A gRPC client whose connection broke waits out its reconnect backoff (up to 1 s + 20% jitter) after the revert.
  effect: { fails: true, graceMs: 2_000, serverSpan: "absent", grpcCodes: ["UNAVAILABLE"], reconnects: true },
  measure: (view, fault) => failures(view, fault, `the ${fault.target} link down`),
});
