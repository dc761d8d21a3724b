import type { FaultRecord } from "../evidence";
import type { Hop } from "../expectations";
import { heldUntil } from "./location";
import { faultEffect } from "./registry";

/**
 * gRPC's connection backoff as its spec states it (grpc-go and grpc-js alike): the first retry after 1 s, each next
 * one 1.6 times later, each jittered by +-20%, at most 120 s apart.
 */
const BACKOFF = { initialMs: 1_000, multiplier: 1.6, jitter: 0.2, maxMs: 120_000 };

/**
 * The longest a gRPC caller may still wait for its next connection attempt after a failure that lasted `heldMs`: the
 * interval under way when it ended, at most (with the shortest jitter the most retries fit in the failure, with the
 * longest the next interval is longest).
 */
export function reconnectGraceMs(heldMs: number): number {
  let interval = BACKOFF.initialMs;
  let elapsed = 0;
  while (elapsed + interval * (1 - BACKOFF.jitter) <= heldMs && interval < BACKOFF.maxMs) {
    elapsed += interval * (1 - BACKOFF.jitter);
    interval = Math.min(interval * BACKOFF.multiplier, BACKOFF.maxMs);
  }
  return Math.round(interval * (1 + BACKOFF.jitter));
}

/**
 * How long after its revert a fault may still explain a failure on a hop: its kind's grace, or for a fault that
 * breaks a gRPC hop's connections, the caller's reconnect backoff after a failure as long as the fault held. Without
 * a hop, the most either allows.
 */
export function graceMsOf(fault: FaultRecord, hop: Pick<Hop, "protocol"> | undefined, windowEndMs: number): number {
  const effect = faultEffect(fault);
  if (!effect) return 0;
  const grpc = hop === undefined || hop.protocol === "grpc";
  if (!effect.reconnects || !grpc) return effect.graceMs;
  return Math.max(effect.graceMs, reconnectGraceMs(heldUntil(fault, windowEndMs) - fault.appliedAtMs));
}
