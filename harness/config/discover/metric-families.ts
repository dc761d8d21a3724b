import type { ActiveTarget, TargetMetadata } from "./answers";

/** One metric family of a target: its type, the label keys all its series carry, and the values seen per key. */
export interface Family {
  /** The name its series carry (a histogram's family name; a counter's with `_total`). */
  name: string;
  type: string;
  labelKeys: string[];
  values: Map<string, Set<string>>;
}

const NOT_LABELS = new Set(["__name__", "le", "quantile"]);

/**
 * The metric families one target exposes, from its metadata and series: the labels Prometheus adds to every series
 * of the target (job, instance, its relabelled ones) are left out, they are no label of the family.
 */
export function familiesOf(
  target: ActiveTarget,
  metadata: readonly TargetMetadata[],
  series: readonly Record<string, string>[],
): Map<string, Family> {
  const ofTarget = (labels: Record<string, string>) =>
    labels.job === target.labels.job && labels.instance === target.labels.instance;
  const types = new Map(metadata.filter((m) => ofTarget(m.target)).map((m) => [m.metric, m.type]));
  const bySeriesName = new Map<string, Record<string, string>[]>();
  for (const s of series.filter(ofTarget)) bySeriesName.set(s.__name__!, [...(bySeriesName.get(s.__name__!) ?? []), s]);
  const families = new Map<string, Family>();
  for (const [metric, type] of types) {
    const name = type === "counter" && !bySeriesName.has(metric) ? `${metric}_total` : metric;
    const samples =
      type === "histogram" || type === "summary" ? bySeriesName.get(`${metric}_count`) : bySeriesName.get(name);
    families.set(name, { name, type, ...labelsOf(samples ?? [], target) });
  }
  return families;
}

function labelsOf(series: readonly Record<string, string>[], target: ActiveTarget) {
  const values = new Map<string, Set<string>>();
  const everywhere = new Map<string, number>();
  for (const s of series)
    for (const [key, value] of Object.entries(s)) {
      if (NOT_LABELS.has(key) || key in target.labels) continue;
      values.set(key, (values.get(key) ?? new Set()).add(value));
      everywhere.set(key, (everywhere.get(key) ?? 0) + 1);
    }
  const labelKeys = [...everywhere].filter(([, n]) => n === series.length).map(([key]) => key);
  return { labelKeys: labelKeys.sort(), values };
}
