import type { FaultKind, FaultSpecOf } from "../../assertions/faults";
import type { MeshTopology } from "../../scenarios/lib/topology";
import { serviceCpu, serviceError, serviceLatency, serviceMemory, serviceStall } from "./admin";
import { cgroupCpuThrottle, cgroupStall } from "./cgroup-faults";
import type { FaultInjector } from "./injector";
import { l7Error, l7Latency } from "./l7";
import { linkBandwidth, linkDown, linkLatency, linkReset, linkTimeout } from "./network";
import { overload } from "./overload";
import { freeze, kill, restart } from "./process";

/**
 * The injectors of every fault kind, in order of preference (assertions/faults holds each kind's descriptor): the
 * first whose means the mesh offers injects it.
 */
export const INJECTORS: { readonly [K in FaultKind]: readonly FaultInjector<K>[] } = {
  error: [serviceError, l7Error],
  latency: [serviceLatency, l7Latency],
  "link-down": [linkDown],
  "link-latency": [linkLatency],
  "link-timeout": [linkTimeout],
  "link-reset": [linkReset],
  "link-bandwidth": [linkBandwidth],
  kill: [kill],
  freeze: [freeze],
  restart: [restart],
  memory: [serviceMemory],
  stall: [serviceStall, cgroupStall],
  cpu: [serviceCpu],
  "cpu-throttle": [cgroupCpuThrottle],
  overload: [overload],
};

/** The injector that injects the fault on a mesh of this topology, or why none can (every one's reason). */
export function injectorFor<K extends FaultKind>(
  fault: FaultSpecOf<K>,
  mesh: MeshTopology,
): { injector: FaultInjector<K> } | { whyNot: string } {
  const injectors = INJECTORS[fault.kind as K] as readonly FaultInjector<K>[];
  const reasons: string[] = [];
  for (const injector of injectors) {
    const reason = injector.whyNot(fault, mesh);
    if (reason === undefined) return { injector };
    reasons.push(reason);
  }
  return { whyNot: `${fault.kind} on ${fault.target}: ${reasons.join("; and ")}` };
}
