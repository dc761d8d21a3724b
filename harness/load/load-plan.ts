import { ConfigError } from "../errors";
import { createRng } from "../util/rng";
import type { RouteCatalog } from "./routes";
import type { ParentMode } from "./trace-context";

export type { ParentMode } from "./trace-context";
export { parseTraceresponse, traceparentHeader } from "./trace-context";

/** One stage of a ramping open-model load: the arrival rate moves linearly to targetRatePerSec over durationMs. */
export interface LoadStage {
  durationMs: number;
  targetRatePerSec: number;
}

export interface LoadPlan {
  /**
   * Arrival rate (open model: a slow response never delays the next request). Without stages the rate is constant
   * for durationMs; with stages it is the starting rate the first stage ramps from.
   */
  ratePerSec: number;
  /** How long the load lasts. With stages it must equal the sum of the stages' durations. */
  durationMs: number;
  /** Ramping arrival rate (k6's ramping-arrival-rate semantics): linear from the previous rate to each target. */
  stages?: readonly LoadStage[];
  /** Route names of the catalog with relative weights. */
  routes: readonly { route: string; weight: number }[];
  seed: number;
  /** Per-request deadline; a request without a response by then is recorded with status 0. Default 10000. */
  timeoutMs?: number;
  /**
   * Relative weights of the traceparent each request carries: flags 01 (sampled), flags 00 (unsampled), or no
   * traceparent header at all (none). Default: every request sampled.
   */
  traceparent?: { sampled: number; unsampled: number; none: number };
}

/** One request of the plan, decided before the run (route, concrete request, traceparent mode), as data. */
export interface PlannedRequest {
  route: string;
  method: "GET" | "POST";
  path: string;
  /** The JSON body, already serialised. */
  body?: string;
  headers?: Record<string, string>;
  parent: ParentMode;
}

/** A bad plan is a usage error: the message names the key and the value. */
export function validatePlan(plan: LoadPlan): void {
  const fail = (key: string, rule: string, got: unknown) => {
    throw new ConfigError(`load plan: ${key} ${rule} (got ${JSON.stringify(got)})`);
  };
  if (!Number.isFinite(plan.ratePerSec) || plan.ratePerSec < 0) fail("ratePerSec", "must be >= 0", plan.ratePerSec);
  if (!plan.stages && !(plan.ratePerSec > 0)) fail("ratePerSec", "must be > 0 without stages", plan.ratePerSec);
  if (!Number.isFinite(plan.durationMs) || plan.durationMs <= 0) fail("durationMs", "must be > 0", plan.durationMs);
  if (plan.timeoutMs !== undefined && !(plan.timeoutMs > 0)) fail("timeoutMs", "must be > 0", plan.timeoutMs);
  if (plan.routes.length === 0) fail("routes", "must name at least one route", plan.routes);
  plan.routes.forEach((r, i) => {
    if (!(r.weight >= 0)) fail(`routes[${i}].weight`, "must be >= 0", r.weight);
  });
  if (!plan.routes.some((r) => r.weight > 0)) fail("routes", "must have a weight > 0", plan.routes);
  if (plan.stages) {
    if (plan.stages.length === 0) fail("stages", "must not be empty when given", plan.stages);
    plan.stages.forEach((s, i) => {
      if (!(s.durationMs > 0)) fail(`stages[${i}].durationMs`, "must be > 0", s.durationMs);
      if (!(s.targetRatePerSec >= 0)) fail(`stages[${i}].targetRatePerSec`, "must be >= 0", s.targetRatePerSec);
    });
    const sum = plan.stages.reduce((total, s) => total + s.durationMs, 0);
    if (sum !== plan.durationMs)
      fail("durationMs", `must equal the sum of stages[].durationMs (${sum})`, plan.durationMs);
  }
  if (plan.traceparent) {
    const { sampled, unsampled, none } = plan.traceparent;
    for (const [key, w] of Object.entries({ sampled, unsampled, none })) {
      if (!(w >= 0)) fail(`traceparent.${key}`, "must be >= 0", w);
    }
    if (!(sampled + unsampled + none > 0)) fail("traceparent", "must have a weight > 0", plan.traceparent);
  }
}

/** The rate segments of a plan: linear from startRate to endRate over durationMs each. */
function segments(plan: LoadPlan): { durationMs: number; startRate: number; endRate: number }[] {
  if (!plan.stages) return [{ durationMs: plan.durationMs, startRate: plan.ratePerSec, endRate: plan.ratePerSec }];
  let rate = plan.ratePerSec;
  return plan.stages.map((s) => {
    const segment = { durationMs: s.durationMs, startRate: rate, endRate: s.targetRatePerSec };
    rate = s.targetRatePerSec;
    return segment;
  });
}

/** The highest arrival rate the plan reaches (what the k6 VU pool is sized for). */
export function peakRatePerSec(plan: LoadPlan): number {
  return Math.max(...segments(plan).flatMap((s) => [s.startRate, s.endRate]));
}

/**
 * When each request of the plan is due, in ms after load start, as k6's executors schedule iterations (so both
 * drivers send the same requests at the same offsets). A constant rate r over d ms: i / r for every i with
 * i / r < d (the first at 0). With stages (ramping-arrival-rate): request i when the integral of the arrival rate
 * reaches i + 1, for as many whole requests as the integral holds.
 */
export function arrivalOffsetsMs(plan: LoadPlan): number[] {
  const epsilon = 1e-9;
  if (!plan.stages) {
    const count = Math.ceil((plan.ratePerSec * plan.durationMs) / 1000 - epsilon);
    return Array.from({ length: Math.max(0, count) }, (_, i) => (i * 1000) / plan.ratePerSec);
  }
  const offsets: number[] = [];
  let t0 = 0;
  let done = 0; // arrivals integrated before this segment
  let next = 1; // the integral value at which the next request is due
  for (const s of segments(plan)) {
    const d = s.durationMs / 1000;
    const slope = (s.endRate - s.startRate) / d; // req/s per s
    const end = done + s.startRate * d + (slope * d * d) / 2;
    for (; next <= end + epsilon; next++) {
      const need = next - done; // arrivals to integrate inside this segment
      // Solve startRate * t + slope * t^2 / 2 = need for t in [0, d].
      const t =
        Math.abs(slope) < 1e-12
          ? need / s.startRate
          : (-s.startRate + Math.sqrt(Math.max(0, s.startRate * s.startRate + 2 * slope * need))) / slope;
      offsets.push(t0 + Math.min(d, Math.max(0, t)) * 1000);
    }
    done = end;
    t0 += s.durationMs;
  }
  return offsets;
}

const PARENT_SEED_SALT = 0x7ace9a7e;

/**
 * Every request of the plan, decided up front from the seed: the route (weighted), the concrete request from the
 * catalog's builder, and the traceparent mode. The same seed gives the same list; the drivers send it as data.
 */
export function planRequests(plan: LoadPlan, routes: RouteCatalog): PlannedRequest[] {
  validatePlan(plan);
  const count = arrivalOffsetsMs(plan).length;
  // Route and builder draws interleave on one generator (the order the inline driver always used, so a seed picks
  // the same routes as before); traceparent modes draw from their own, so adding modes leaves the routes alone.
  const rng = createRng(plan.seed);
  const parentRng = createRng((plan.seed ^ PARENT_SEED_SALT) >>> 0);
  const pickRoute = weightedPicker(
    plan.routes.map((r) => ({ value: r.route, weight: r.weight })),
    rng.next,
  );
  const mix = plan.traceparent ?? { sampled: 1, unsampled: 0, none: 0 };
  const pickParent = weightedPicker<ParentMode>(
    (["sampled", "unsampled", "none"] as const).map((value) => ({ value, weight: mix[value] })),
    parentRng.next,
  );
  const planned: PlannedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const route = pickRoute();
    const build = routes[route];
    if (!build) {
      throw new ConfigError(
        `load plan: no request builder for route "${route}"; known: ${Object.keys(routes).join(", ")}`,
      );
    }
    const request = build(rng);
    planned.push({
      route,
      method: request.method,
      path: request.path,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(request.headers ? { headers: request.headers } : {}),
      parent: plan.traceparent ? pickParent() : "sampled",
    });
  }
  return planned;
}

function weightedPicker<T>(items: readonly { value: T; weight: number }[], random: () => number): () => T {
  const total = items.reduce((sum, r) => sum + r.weight, 0);
  const last = [...items].reverse().find((r) => r.weight > 0)!.value;
  return () => {
    let x = random() * total;
    for (const r of items) if (r.weight > 0 && (x -= r.weight) < 0) return r.value;
    return last;
  };
}
