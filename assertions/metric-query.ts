import type { ContractLabels, TelemetryContract } from "./contract";
import type { MetricSample, ServiceInfo } from "./evidence";

export type Labels = Record<string, string>;

const DEFAULT_LABELS: Required<ContractLabels> = {
  instance: "instance",
  httpMethod: "method",
  httpRoute: "route",
  httpStatusCode: "status_code",
  peerService: "peer_service",
  grpcService: "grpc_service",
  grpcMethod: "grpc_method",
  grpcCode: "grpc_code",
  gcKind: "kind",
  faultKind: "kind",
  faultTarget: "target",
};

/** The contract's label keys with conventions filled in. */
export function labelsOf(contract: TelemetryContract): Required<ContractLabels> {
  return { ...DEFAULT_LABELS, ...contract.labels };
}

/** A selection of samples: one metric name, exact label matches, and an optional extra predicate. */
export interface Selector {
  name: string;
  where?: Labels;
  exclude?: (labels: Labels) => boolean;
}

export function selects(sample: MetricSample, selector: Selector): boolean {
  if (sample.name !== selector.name) return false;
  for (const [key, value] of Object.entries(selector.where ?? {})) if (sample.labels[key] !== value) return false;
  return !selector.exclude?.(sample.labels);
}

export function select(samples: readonly MetricSample[], selector: Selector): MetricSample[] {
  return samples.filter((s) => selects(s, selector));
}

/** Selector for one service's samples of a metric. */
export function ofService(
  contract: TelemetryContract,
  service: ServiceInfo,
  name: string,
  where: Labels = {},
  exclude?: (labels: Labels) => boolean,
): Selector {
  return { name, where: { ...where, [labelsOf(contract).instance]: service.instance }, exclude };
}

/** Identity of a series within a metric (its labels without the name), stable under key order. */
export function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

function groupKey(labels: Labels, by: readonly string[]): string {
  return by.map((k) => labels[k] ?? "").join("|");
}

/** Sum of the selected series' values, grouped by the values of `by` (joined with "|"). */
export function sumBy(
  samples: readonly MetricSample[],
  selector: Selector,
  by: readonly string[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of select(samples, selector)) {
    const key = groupKey(s.labels, by);
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/**
 * Counter increase per series from `from` to `to`, grouped by `by`. A series absent in `from` starts at 0; a value
 * that went down is a counter reset (process restart), so the increase is the later value.
 */
export function deltaBy(
  from: readonly MetricSample[],
  to: readonly MetricSample[],
  selector: Selector,
  by: readonly string[],
): Map<string, number> {
  const before = new Map(select(from, selector).map((s) => [seriesKey(s.labels), s.value]));
  const out = new Map<string, number>();
  for (const s of select(to, selector)) {
    const start = before.get(seriesKey(s.labels)) ?? 0;
    const key = groupKey(s.labels, by);
    out.set(key, (out.get(key) ?? 0) + (s.value >= start ? s.value - start : s.value));
  }
  return out;
}

/** Total counter increase of the selection. */
export function delta(from: readonly MetricSample[], to: readonly MetricSample[], selector: Selector): number {
  return deltaBy(from, to, selector, []).get("") ?? 0;
}

/** Map -> plain object for `expected`/`observed`, dropping zero entries so the two sides compare at a glance. */
export function nonZero(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map].filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)));
}

/** Keys where two tallies disagree (a missing key counts as 0). */
export function disagreements(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
): { key: string; a: number; b: number }[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.map((key) => ({ key, a: a.get(key) ?? 0, b: b.get(key) ?? 0 })).filter((d) => d.a !== d.b);
}
