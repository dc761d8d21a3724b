import { z } from "zod";
import { defineFault } from "../descriptor";
import { failures } from "../measure";

/** Resets connections on a link (TCP RST) after timeoutMs of data. */
export const linkResetFault = defineFault({
  kind: "link-reset",
  summary: "resets connections on a link (TCP RST) after timeoutMs of data",
  params: z.strictObject({ timeoutMs: z.number().nonnegative() }),
  site: "link",
  // The reset acts on the answering direction: a request may reach the server and lose its answer.
  effect: { fails: true, graceMs: 2_000, serverSpan: "optional", grpcCodes: ["UNAVAILABLE"], reconnects: true },
  measure: (view, fault) => failures(view, fault, `connections on the ${fault.target} link reset`),
});
