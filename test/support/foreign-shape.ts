import type { TelemetryContract } from "../../assertions/contract";
import type { AssertionResult, Evidence, MetricSample, MetricSeries } from "../../assertions/evidence";

/**
 * Rewrites a fixture run into the shape of a mesh the judge did not write (no method label, status classes, other
 * code spellings...), so a unit test can judge the same calls through another contract.
 */

type Labels = Record<string, string>;

/** Every service judged by one changed copy of the fixture's contract (all its services share the node one). */
export function withContract(evidence: Evidence, change: (c: TelemetryContract) => void): TelemetryContract {
  const copy = structuredClone(evidence.services[0]!.contract);
  change(copy);
  for (const s of evidence.services) s.contract = copy;
  return copy;
}

/** A sample's identity: name and sorted labels. */
function identity(name: string, labels: Labels): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",")}}`;
}

/** Relabelled samples, series that became one summed (a dropped label merges what it told apart). */
function relabelSamples(
  samples: readonly MetricSample[],
  fn: (name: string, labels: Labels) => Labels,
): MetricSample[] {
  const out = new Map<string, MetricSample>();
  for (const s of samples) {
    const labels = fn(s.name, s.labels);
    const key = identity(s.name, labels);
    const seen = out.get(key);
    if (seen) seen.value += s.value;
    else out.set(key, { name: s.name, labels, value: s.value });
  }
  return [...out.values()];
}

function relabelRange(series: readonly MetricSeries[], fn: (name: string, labels: Labels) => Labels): MetricSeries[] {
  const out = new Map<string, { name: string; labels: Labels; byT: Map<number, number> }>();
  for (const s of series) {
    const labels = fn(s.name, s.labels);
    const key = identity(s.name, labels);
    const entry = out.get(key) ?? { name: s.name, labels, byT: new Map<number, number>() };
    for (const [t, v] of s.values) entry.byT.set(t, (entry.byT.get(t) ?? 0) + v);
    out.set(key, entry);
  }
  return [...out.values()].map(({ name, labels, byT }) => ({
    name,
    labels,
    values: [...byT].sort(([a], [b]) => a - b),
  }));
}

/** Rewrites the labels of every metric sample of a run: snapshots, instants, range series, lives, exemplars. */
export function relabel(evidence: Evidence, fn: (name: string, labels: Labels) => Labels): void {
  const m = evidence.metrics;
  m.start = relabelSamples(m.start, fn);
  m.end = relabelSamples(m.end, fn);
  for (const k of Object.keys(m.at)) m.at[k] = relabelSamples(m.at[k]!, fn);
  m.range = relabelRange(m.range, fn);
  m.exemplars = m.exemplars.map((x) => ({ ...x, labels: fn(x.name, x.labels) }));
  for (const f of evidence.faults) if (f.lastSamples) f.lastSamples = relabelSamples(f.lastSamples, fn);
}

/** The label set without `key`, on the series `where` picks. */
export function dropLabel(key: string, where: (name: string) => boolean): (name: string, labels: Labels) => Labels {
  return (name, labels) => {
    if (!where(name) || !(key in labels)) return labels;
    const { [key]: _dropped, ...rest } = labels;
    return rest;
  };
}

/** The label set with `key`'s value mapped, on the series `where` picks. */
export function mapLabel(
  key: string,
  where: (name: string) => boolean,
  value: (v: string) => string,
): (name: string, labels: Labels) => Labels {
  return (name, labels) =>
    where(name) && labels[key] !== undefined ? { ...labels, [key]: value(labels[key]!) } : labels;
}

/** "201" -> "2xx"; other values as they are. */
export function asClass(code: string): string {
  return /^[1-5]\d\d$/.test(code) ? `${code[0]}xx` : code;
}

/** "DEADLINE_EXCEEDED" -> "DeadlineExceeded", as Go's codes.Code.String() prints it ("OK", "Canceled"). */
export function asCamelCase(code: string): string {
  if (code === "OK") return code;
  if (code === "CANCELLED") return "Canceled";
  return code
    .split("_")
    .map((w) => w[0] + w.slice(1).toLowerCase())
    .join("");
}

/** id -> status of a judgement, to compare two judgements of one run. */
export function statuses(results: readonly AssertionResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.id, r.status]));
}

/** The ids of a judgement's results with one status. */
export function idsWith(results: readonly AssertionResult[], status: AssertionResult["status"]): string[] {
  return results.filter((r) => r.status === status).map((r) => r.id);
}
