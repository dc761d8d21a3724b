import { z } from "zod";
import { GRPC_CODE_NAMES } from "../../grpc-codes";
import type { MetricSample } from "../../evidence";
import type { MutationOperator } from "../../mutation";
import { sameSeries, withSamples } from "../../mutation-support";
import { defineFault } from "../descriptor";
import { errorRate } from "../measure";

/** Keeps the server counter of an error fault's status code flat over the run. */
const hideInjectedErrors: MutationOperator = {
  name: "hide-injected-errors",
  family: "metrics",
  models: "a server counter that labels injected failures as successes",
  killedBy: "metrics.error-rate",
  apply(e) {
    const fault = e.faults.find((f) => f.kind === "error");
    const service = fault && e.services.find((s) => s.name === fault.target.split(".")[0]);
    if (!fault || !service) return undefined;
    const c = service.contract;
    const code = String(fault.params.grpcCode ?? fault.params.httpStatus);
    const codeKey = service.protocol === "grpc" ? c.labels.grpcCode : c.labels.httpStatusCode;
    const name = service.protocol === "grpc" ? c.grpcServerHandled.name : c.httpServerRequests.name;
    const mine = (s: MetricSample) =>
      s.name === name && s.labels[c.labels.instance] === service.instance && s.labels[codeKey] === code;
    const victims = e.metrics.end.filter(mine);
    if (!victims.some((v) => v.value > (e.metrics.start.find((s) => sameSeries(s, v))?.value ?? 0))) return undefined;
    return {
      evidence: withSamples(e, "end", (samples) =>
        samples.map((s) => (mine(s) ? { ...s, value: e.metrics.start.find((x) => sameSeries(x, s))?.value ?? 0 } : s)),
      ),
      change: `${service.name} ${name}{${codeKey}="${code}"} did not rise`,
    };
  },
};

/** Fails a share of a service's calls (or one method's) with a gRPC code or an HTTP status. */
export const errorFault = defineFault({
  kind: "error",
  summary: "fails a share of calls with a gRPC code or an HTTP status",
  params: z
    .strictObject({
      rate: z.number().gt(0).max(1),
      grpcCode: z.enum(GRPC_CODE_NAMES.filter((c) => c !== "OK") as [string, ...string[]]).optional(),
      httpStatus: z.number().int().min(400).max(599).optional(),
    })
    .refine((p) => (p.grpcCode === undefined) !== (p.httpStatus === undefined), {
      message: "must set exactly one of grpcCode and httpStatus",
    }),
  site: "method",
  effect: { fails: true, graceMs: 0, serverSpan: "present" },
  // Answered by the proxy in front of the callee: the callee never sees the call.
  effectVia: { l7: { serverSpan: "absent" } },
  signature: { errorRate: true },
  operators: [hideInjectedErrors],
  measure: (view, fault, p) => errorRate(view, fault, p.rate),
});
