import type { z } from "zod";
import type { FaultDescriptor, FaultEffect, FaultSignature } from "./descriptor";
import { cpuFault } from "./kinds/cpu";
import { cpuThrottleFault } from "./kinds/cpu-throttle";
import { errorFault } from "./kinds/error";
import { freezeFault } from "./kinds/freeze";
import { killFault } from "./kinds/kill";
import { latencyFault } from "./kinds/latency";
import { linkBandwidthFault } from "./kinds/link-bandwidth";
import { linkDownFault } from "./kinds/link-down";
import { linkLatencyFault } from "./kinds/link-latency";
import { linkResetFault } from "./kinds/link-reset";
import { linkTimeoutFault } from "./kinds/link-timeout";
import { memoryFault } from "./kinds/memory";
import { overloadFault } from "./kinds/overload";
import { restartFault } from "./kinds/restart";
import { stallFault } from "./kinds/stall";

/** Every fault kind meshproof knows, by name: adding a kind is one descriptor here and one injector in the harness. */
export const FAULTS = {
  error: errorFault,
  latency: latencyFault,
  "link-down": linkDownFault,
  "link-latency": linkLatencyFault,
  "link-timeout": linkTimeoutFault,
  "link-reset": linkResetFault,
  "link-bandwidth": linkBandwidthFault,
  kill: killFault,
  freeze: freezeFault,
  restart: restartFault,
  memory: memoryFault,
  stall: stallFault,
  overload: overloadFault,
  cpu: cpuFault,
  "cpu-throttle": cpuThrottleFault,
} as const;

export type FaultKind = keyof typeof FAULTS;
export const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[];

/** A fault's timing and target as a scenario declares it (times relative to the start of load). */
export interface FaultTiming {
  /** What it hits, as its kind's site names it: "payments.Charge", "payments", "orders-redis". */
  target: string;
  /** Offset from load start (warm-up included). */
  atMs: number;
  /** How long it holds before it is reverted. */
  durationMs: number;
}

/** A kind's params, as its schema types them. */
export type FaultParams<K extends FaultKind> = z.infer<(typeof FAULTS)[K]["params"]>;

/** One fault of a scenario, its params typed by its kind's schema. */
export type FaultSpec = { [K in FaultKind]: FaultTiming & { kind: K; params: FaultParams<K> } }[FaultKind];
export type FaultSpecOf<K extends FaultKind> = Extract<FaultSpec, { kind: K }>;

/** The descriptor of a kind; undefined for a kind this version does not know (an old or foreign journal). */
export function faultDescriptor(kind: string): FaultDescriptor | undefined {
  return Object.hasOwn(FAULTS, kind) ? (FAULTS[kind as FaultKind] as FaultDescriptor) : undefined;
}

/** What a fault does to a trace, by its kind and the means it was injected by; undefined for an unknown kind. */
export function faultEffect(fault: { kind: string; via?: string }): FaultEffect | undefined {
  const descriptor = faultDescriptor(fault.kind);
  const override = fault.via
    ? descriptor?.effectVia?.[fault.via as keyof NonNullable<FaultDescriptor["effectVia"]>]
    : undefined;
  return descriptor && (override ? { ...descriptor.effect, ...override } : descriptor.effect);
}

/** What the judge expects to see of a kind in telemetry; empty for an unknown kind. */
export function faultSignature(kind: string): FaultSignature {
  return faultDescriptor(kind)?.signature ?? {};
}
