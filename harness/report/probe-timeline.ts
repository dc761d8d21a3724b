import type { AssertionResult, Evidence } from "../../assertions/evidence";
import type { ChartSpec } from "./report-charts";

/** One lane of the probe timeline: a service's probe, as runs of one status. */
export interface ProbeLane {
  service: string;
  probe: string;
  /** [fromS, toS, status] */
  runs: [number, number, number][];
  /** Status changes, with the latency the readiness-flip assertion measured when it judged this one. */
  flips: { atS: number; to: number; label: string; detail?: string }[];
}

/** The probe timeline of a scenario: its lanes, the span of time they cover, and the faults to shade. */
export interface ProbeTimeline {
  lanes: ProbeLane[];
  fromS: number;
  toS: number;
  faults: ChartSpec["shades"];
}

/** Lanes of the probe timeline; flips labelled with the readiness-flip assertion's measured latency. */
export function probeLanes(
  evidence: Evidence,
  assertions: readonly AssertionResult[],
  rel: (ms: number) => number,
  faults: ChartSpec["shades"],
): ProbeTimeline {
  const lanes = new Map<string, ProbeLane>();
  const sorted = [...evidence.probes].sort((a, b) => a.atMs - b.atMs);
  for (const p of sorted) {
    const key = `${p.service} ${p.probe}`;
    let lane = lanes.get(key);
    if (!lane) {
      lane = { service: p.service, probe: p.probe, runs: [], flips: [] };
      lanes.set(key, lane);
    }
    const at = rel(p.atMs);
    const run = lane.runs.at(-1);
    if (run && run[2] === p.status) run[1] = at;
    else {
      if (run) {
        run[1] = at;
        lane.flips.push({ atS: at, to: p.status, label: `${run[2]} -> ${p.status}` });
      }
      lane.runs.push([at, at, p.status]);
    }
  }
  // "orders /readyz redis (orders-redis)": { flipMs, recoverMs } -> the lane's first flip away from 200 and back.
  const observedFlips = assertions
    .filter((a) => a.id === "probes.readiness-flip" || a.id === "probes.liveness-flip")
    .flatMap((a) => Object.entries(a.observed ?? {}).map(([key, value]) => ({ id: a.id, key, value })));
  for (const { id, key, value } of observedFlips) {
    const m = /^(\S+) \/(\S+) (\S+) \((.+)\)$/.exec(key);
    if (!m || typeof value !== "object" || value === null) continue;
    const [, service, probe, check, target] = m as unknown as [string, string, string, string, string];
    const { flipMs, recoverMs } = value as { flipMs?: number; recoverMs?: number };
    const lane = lanes.get(`${service} ${probe}`);
    const fault = evidence.faults.find((f) => f.target === target);
    if (!lane || !fault) continue;
    const down = lane.flips.find((f) => f.to !== 200 && f.atS >= rel(fault.appliedAtMs));
    if (down && typeof flipMs === "number") {
      down.label = `${check} +${flipMs} ms`;
      down.detail = `/${probe} answered ${check}: flipped ${flipMs} ms after the fault on ${target} (${id})`;
    }
    const up = lane.flips.find((f) => f.to === 200 && down && f.atS > down.atS);
    if (up && typeof recoverMs === "number") {
      up.label = `ok +${recoverMs} ms`;
      up.detail = `/${probe} answered 200 again ${recoverMs} ms after ${target} was restored (${id})`;
    }
  }
  const all = [...lanes.values()].sort((a, b) => a.service.localeCompare(b.service) || a.probe.localeCompare(b.probe));
  const from = Math.min(...all.map((l) => l.runs[0]?.[0] ?? 0));
  const to = Math.max(...all.map((l) => l.runs.at(-1)?.[1] ?? 0));
  return { lanes: all, fromS: all.length ? from : 0, toS: all.length ? to : 0, faults };
}
