import type { MetricSample } from "./evidence";

export type Labels = Record<string, string>;

/** A selection of samples: one metric name, exact label matches, and an optional extra predicate. */
export interface Selector {
  name: string;
  where?: Labels;
  exclude?: (labels: Labels) => boolean;
}

/** A sample, or a range series: what a selector matches by. */
type Named = Pick<MetricSample, "name" | "labels">;

export function selects(sample: Named, selector: Selector): boolean {
  if (sample.name !== selector.name) return false;
  for (const [key, value] of Object.entries(selector.where ?? {})) if (sample.labels[key] !== value) return false;
  return !selector.exclude?.(sample.labels);
}

export function select<T extends Named>(samples: readonly T[], selector: Selector): T[] {
  return samples.filter((s) => selects(s, selector));
}

/**
 * Labels with bucket bounds and quantiles in one spelling: a service may expose `le="1"` as text and `le="1.0"` as
 * OpenMetrics (Prometheus negotiates the latter, a plain GET gets the former), and the two must name one series.
 */
export function canonicalLabels(labels: Labels): Labels {
  const canonical = (value: string) =>
    value === "" || !Number.isFinite(Number(value)) ? value : String(Number(value));
  return "le" in labels || "quantile" in labels
    ? {
        ...labels,
        ...(labels.le === undefined ? {} : { le: canonical(labels.le) }),
        ...(labels.quantile === undefined ? {} : { quantile: canonical(labels.quantile) }),
      }
    : labels;
}

/** Identity of a series within a metric (its labels without the name), stable under key order. */
export function seriesKey(labels: Labels): string {
  return Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/**
 * Counter increase per series from `from` to `to`, grouped by `key(labels)`. A series absent in `from` starts at 0;
 * a value that went down is a counter reset (process restart), so the increase is the later value.
 */
export function deltaBy(
  from: readonly MetricSample[],
  to: readonly MetricSample[],
  selector: Selector,
  key: (labels: Labels) => string,
): Map<string, number> {
  const before = new Map(select(from, selector).map((s) => [seriesKey(s.labels), s.value]));
  const out = new Map<string, number>();
  for (const s of select(to, selector)) {
    const start = before.get(seriesKey(s.labels)) ?? 0;
    const k = key(s.labels);
    out.set(k, (out.get(k) ?? 0) + (s.value >= start ? s.value - start : s.value));
  }
  return out;
}

/**
 * Counter increase across a process's lives: `lives` holds each earlier life's last values (read just before it
 * died), so the increase is (first life's last - start) + (each later life's last) + (the running life's end), each
 * new life starting at 0. Without lives it is deltaBy.
 */
export function deltaAcrossLives(
  from: readonly MetricSample[],
  lives: readonly (readonly MetricSample[])[],
  to: readonly MetricSample[],
  selector: Selector,
  key: (labels: Labels) => string,
): Map<string, number> {
  if (lives.length === 0) return deltaBy(from, to, selector, key);
  const out = deltaBy(from, lives[0]!, selector, key);
  const add = (samples: readonly MetricSample[]) => {
    for (const s of select(samples, selector)) out.set(key(s.labels), (out.get(key(s.labels)) ?? 0) + s.value);
  };
  for (const life of lives.slice(1)) add(life);
  add(to);
  return out;
}

/** Total counter increase of the selection. */
export function delta(from: readonly MetricSample[], to: readonly MetricSample[], selector: Selector): number {
  return deltaBy(from, to, selector, () => "").get("") ?? 0;
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

/** The median of the values; null for none. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
