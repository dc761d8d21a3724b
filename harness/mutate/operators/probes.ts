import { faultSignature } from "../../../assertions/faults";
import { faultEffect } from "../../../assertions/faults";
import type { Evidence } from "../../../assertions/evidence";
import type { Expectations } from "../../../assertions/expectations";
import type { MutationOperator } from "../../../assertions/mutation";
import { heldUntil } from "../../../assertions/trace-shape";

// Probe operators: readiness and liveness answers that fail without cause or hide a real flip.

/**
 * Polls of the run's load window the judge holds to 200: not while a fault the scenario lets fail every probe holds
 * (probes.tolerate), nor while a flip declared for that service and probe may hold (the fault plus a flip bound).
 */
export function judgedPolls(e: Evidence, expectations: Expectations | undefined) {
  const windowOf = (f: Evidence["faults"][number], afterMs: number) =>
    [f.appliedAtMs, heldUntil(f, e.window.endMs) + afterMs] as const;
  const tolerated = e.faults
    .filter((f) => expectations?.probes?.tolerate?.includes(f.target))
    .map((f) => windowOf(f, faultEffect(f)?.graceMs ?? 0));
  const flips = (expectations?.probes?.readinessFlips ?? []).flatMap((flip) =>
    e.faults
      .filter((f) => f.target === flip.fault)
      .map((f) => ({ service: flip.service, probe: flip.probe ?? "readyz", window: windowOf(f, 2_000) })),
  );
  const inside = (p: Evidence["probes"][number], [from, to]: readonly [number, number]) =>
    p.atMs + p.latencyMs >= from && p.atMs <= to;
  return e.probes.filter(
    (p) =>
      p.atMs >= e.window.startMs &&
      !tolerated.some((w) => inside(p, w)) &&
      !flips.some((f) => f.service === p.service && f.probe === p.probe && inside(p, f.window)),
  );
}

/** Turns one judged 200 /readyz poll of a service no fault targets into a 503. */
export const flipReadinessPoll: MutationOperator = {
  name: "flip-readiness-poll",
  family: "probes",
  models: "a readiness probe that fails with no dependency down",
  killedBy: "probes.baseline-healthy",
  apply(e, rng, expectations) {
    const faulted = new Set(e.faults.map((f) => f.target.split(/[-.]/)[0]));
    const polls = judgedPolls(e, expectations).filter(
      (p) => p.probe === "readyz" && p.status === 200 && !faulted.has(p.service),
    );
    const victim = rng.pick(polls);
    if (!victim) return undefined;
    return {
      evidence: { ...e, probes: e.probes.map((p) => (p === victim ? { ...p, status: 503 } : p)) },
      change: `${victim.service} /readyz answered 503 at +${victim.atMs - e.window.startMs} ms`,
    };
  },
};

/** Turns one judged /healthz poll into a timeout. */
export const failLivenessPoll: MutationOperator = {
  name: "fail-liveness-poll",
  family: "probes",
  models: "a liveness probe that times out once",
  killedBy: "probes.liveness-stable",
  apply(e, rng, expectations) {
    const victim = rng.pick(judgedPolls(e, expectations).filter((p) => p.probe === "healthz"));
    if (!victim) return undefined;
    return {
      evidence: { ...e, probes: e.probes.map((p) => (p === victim ? { ...p, status: 0, error: "timed out" } : p)) },
      change: `${victim.service} /healthz timed out at +${victim.atMs - e.window.startMs} ms`,
    };
  },
};

/** Turns every /readyz 503 into a 200. */
export const hideReadinessFlip: MutationOperator = {
  name: "hide-readiness-flip",
  family: "probes",
  models: "a readiness probe that ignores the dependency the fault took down",
  killedBy: "probes.readiness-flip",
  apply(e) {
    const down = e.probes.filter((p) => p.probe === "readyz" && p.status === 503);
    if (!down.length) return undefined;
    const ok = { status: "ok", checks: {} };
    return {
      evidence: { ...e, probes: e.probes.map((p) => (down.includes(p) ? { ...p, status: 200, body: ok } : p)) },
      change: `${down.length} /readyz 503 answers turned 200`,
    };
  },
};

/** Turns every /healthz 503 of a stall- or memory-faulted service into a 200. */
export const hideLivenessFlip: MutationOperator = {
  name: "hide-liveness-flip",
  family: "probes",
  models: "a liveness probe that does not report the process's own trouble (a blocked loop, a heap over its limit)",
  killedBy: "probes.liveness-flip",
  apply(e) {
    const faulted = new Set(
      e.faults
        .filter((f) => ["heap", "event-loop"].includes(faultSignature(f.kind).runtime ?? ""))
        .map((f) => f.target),
    );
    const down = e.probes.filter((p) => p.probe === "healthz" && p.status === 503 && faulted.has(p.service));
    if (!down.length) return undefined;
    const ok = { status: "ok", checks: {} };
    return {
      evidence: { ...e, probes: e.probes.map((p) => (down.includes(p) ? { ...p, status: 200, body: ok } : p)) },
      change: `${down.length} /healthz 503 answers of ${[...faulted].join(", ")} turned 200`,
    };
  },
};
