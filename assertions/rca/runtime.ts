import type { TelemetryContract } from "../contract";
import type { ServiceInfo } from "../evidence";
import type { RcaContext } from "./context";
import type { RcaWindow, RuntimeCompare, SuspectRuntime } from "./model";
import { round } from "./numbers";

export function runtimeNames(c: TelemetryContract) {
  const r = c.runtimeMetrics;
  if (!r) return [];
  return [
    { key: "cpuCores", name: r.cpuSecondsTotal },
    { key: "gcPerSec", name: `${r.gcDuration.name}_count` },
    { key: "eventLoopLagMs", name: r.eventLoopLagSeconds },
    { key: "eventLoopUtilization", name: r.eventLoopUtilization },
    { key: "heapUsedBytes", name: r.heapUsedBytes },
    { key: "goroutines", name: r.goroutines },
  ].filter((x): x is { key: keyof SuspectRuntime & string; name: string } => x.name !== undefined);
}

/**
 * The suspect service's runtime in the window against steady state: CPU (cores), GC runs per second, event-loop lag
 * and utilisation, heap (goroutines for Go); series evidence.metrics.range lacks are named in `missing`.
 */
export function runtimeOf(
  ctx: RcaContext,
  serviceName: string,
  window: Pick<RcaWindow, "startMs" | "endMs">,
): SuspectRuntime {
  const service = ctx.service(serviceName);
  if (!service) return { missing: ["(not a service of the mesh: no runtime series)"] };
  const contract = service.contract;
  const loadStart = ctx.evidence.window.startMs;
  const runtime: SuspectRuntime = { missing: [] };
  const points = (name: string) => seriesPoints(ctx, service, name);
  const between = (ps: { ms: number; v: number }[], from: number, to: number) =>
    ps.filter((p) => p.ms >= from && p.ms <= to);
  const rate = (ps: { ms: number; v: number }[]) =>
    ps.length < 2 ? undefined : counterIncrease(ps) / ((ps.at(-1)!.ms - ps[0]!.ms) / 1000);
  const mean = (ps: { v: number }[]) => (ps.length === 0 ? undefined : ps.reduce((a, p) => a + p.v, 0) / ps.length);
  const max = (ps: { v: number }[]) => (ps.length === 0 ? undefined : Math.max(...ps.map((p) => p.v)));
  // The window's samples: scrapes up to one step after it ends still describe it.
  const during = (ps: { ms: number; v: number }[]) => between(ps, window.startMs, window.endMs + 1000);
  const steady = (ps: { ms: number; v: number }[]) => between(ps, loadStart, window.startMs);
  for (const { key, name } of runtimeNames(contract)) {
    const ps = points(name);
    if (ps.length === 0) {
      runtime.missing.push(name);
      continue;
    }
    let value: RuntimeCompare | undefined;
    const pair = (w: number | undefined, s: number | undefined, digits: number) =>
      w === undefined || s === undefined ? undefined : { window: round(w, digits), steady: round(s, digits) };
    switch (key) {
      case "cpuCores":
        value = pair(rate(during(ps)), rate(steady(ps)), 3);
        break;
      case "gcPerSec":
        value = pair(rate(during(ps)), rate(steady(ps)), 2);
        break;
      case "eventLoopLagMs":
        value = pair(scale(max(during(ps)), 1000), scale(mean(steady(ps)), 1000), 2);
        break;
      case "heapUsedBytes":
        value = pair(max(during(ps)), mean(steady(ps)), 0);
        break;
      default:
        value = pair(mean(during(ps)), mean(steady(ps)), 3);
    }
    if (value) (runtime as unknown as Record<string, RuntimeCompare>)[key] = value;
  }
  return runtime;
}

/** One runtime series of a service over the run, its samples in time order (several series of one name summed). */
export function seriesPoints(ctx: RcaContext, service: ServiceInfo, name: string): { ms: number; v: number }[] {
  const byT = new Map<number, number>();
  for (const s of ctx.evidence.metrics.range)
    if (s.name === name && ctx.owns(service, s)) for (const [t, v] of s.values) byT.set(t, (byT.get(t) ?? 0) + v);
  return [...byT].sort(([a], [b]) => a - b).map(([t, v]) => ({ ms: t * 1000, v }));
}

function scale(v: number | undefined, by: number): number | undefined {
  return v === undefined ? undefined : v * by;
}

/**
 * A counter's increase over its samples, across restarts: a sample below the one before it is a counter that started
 * again from zero (a restarted process), so it adds its own value, never a negative step (Prometheus' rate() does the
 * same).
 */
export function counterIncrease(ps: readonly { v: number }[]): number {
  let increase = 0;
  for (let i = 1; i < ps.length; i++) increase += ps[i]!.v >= ps[i - 1]!.v ? ps[i]!.v - ps[i - 1]!.v : ps[i]!.v;
  return increase;
}
