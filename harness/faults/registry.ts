import type { FaultKind } from "../../assertions/faults";
import { serviceCpu, serviceError, serviceLatency, serviceMemory, serviceStall } from "./admin";
import type { FaultInjector } from "./injector";
import { linkBandwidth, linkDown, linkLatency, linkReset, linkTimeout } from "./network";
import { overload } from "./overload";
import { freeze, kill, restart } from "./process";

/** The injector of every fault kind (assertions/faults holds each kind's descriptor). */
export const INJECTORS: { readonly [K in FaultKind]: FaultInjector<K> } = {
  error: serviceError,
  latency: serviceLatency,
  "link-down": linkDown,
  "link-latency": linkLatency,
  "link-timeout": linkTimeout,
  "link-reset": linkReset,
  "link-bandwidth": linkBandwidth,
  kill,
  freeze,
  restart,
  memory: serviceMemory,
  stall: serviceStall,
  cpu: serviceCpu,
  overload,
};

/** The injector of a kind. */
export function injectorFor<K extends FaultKind>(kind: K): FaultInjector<K> {
  return INJECTORS[kind];
}
