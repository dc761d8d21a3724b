export { defineFault } from "./descriptor";
export type { FaultDescriptor, FaultEffect, FaultSignature, FaultSite, Measure } from "./descriptor";
export { measureFaultEffects } from "./effects";
export type { MeasuredEffect } from "./effects";
export { faultLocation, heldUntil, hopOfFault, requestFaultSite } from "./location";
export { graceMsOf, reconnectGraceMs } from "./grace";
export type { FaultLocation } from "./location";
export { FAULT_KINDS, FAULTS, faultDescriptor, faultEffect, faultSignature } from "./registry";
export type { FaultKind, FaultParams, FaultSpec, FaultSpecOf, FaultTiming } from "./registry";
