import type { FaultRecord } from "../evidence";
import type { RunView } from "../run-view";
import type { Measure } from "./descriptor";
import { faultDescriptor } from "./registry";

/**
 * What a journaled fault really did, measured from harness records only (the driver's request log, the probe
 * timeline, /proc samples) beside what was declared. A fault whose effect is not observed leaves the scenario
 * "inconclusive": its assertions judged a run that did not happen as declared.
 */
export interface MeasuredEffect extends Measure {
  faultId: string;
  kind: string;
  target: string;
}

function measure(view: RunView, fault: FaultRecord): Measure {
  const descriptor = faultDescriptor(fault.kind);
  const params = descriptor?.params.safeParse(fault.params);
  if (descriptor && params?.success) return descriptor.measure(view, fault, params.data);
  return {
    declared: `${fault.kind} on ${fault.target}`,
    tolerance: "a known fault kind with valid params",
    measured: {},
    observed: false,
    firstEffectMs: null,
    detail: descriptor
      ? `params ${JSON.stringify(fault.params)} do not fit ${fault.kind}: ${params?.error?.issues[0]?.message}`
      : `no measurement for fault kind "${fault.kind}"`,
  };
}

/** The measured effect of every fault of the run's journal. */
export function measureFaultEffects(view: RunView): MeasuredEffect[] {
  return view.evidence.faults.map((fault): MeasuredEffect => ({
    faultId: fault.id,
    kind: fault.kind,
    target: fault.target,
    ...measure(view, fault),
  }));
}
