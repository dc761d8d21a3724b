/**
 * The rules of `promtool check metrics` (Prometheus 2.42, client_golang's promlint) over a text exposition, so the
 * hygiene verdict says what promtool says. A test runs the real promtool on every service's /metrics and checks
 * both agree problem for problem.
 */

export interface MetricFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  /** Label names used by the family's samples. */
  labelNames: Set<string>;
  /** Sample names (name, name_bucket, name_total, ...). */
  sampleNames: Set<string>;
  /** Every sample with its labels and value. */
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

export interface LintProblem {
  metric: string;
  text: string;
}

const UNITS: Record<string, string> = {
  amperes: "amperes",
  bytes: "bytes",
  celsius: "celsius",
  grams: "grams",
  joules: "joules",
  kelvin: "kelvin",
  meters: "meters",
  metres: "metres",
  seconds: "seconds",
  volts: "volts",
  minutes: "seconds",
  hours: "seconds",
  days: "seconds",
  weeks: "seconds",
  kelvins: "kelvin",
  fahrenheit: "celsius",
  rankine: "celsius",
  inches: "meters",
  yards: "meters",
  miles: "meters",
  bits: "bytes",
  calories: "joules",
  pounds: "grams",
  ounces: "grams",
};
const UNIT_PREFIXES = [
  ...["pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mibi", "giga"],
  ...["gibi", "tera", "tebi", "peta", "pebi"],
];
const UNIT_ABBREVIATIONS = ["s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"];
const TYPES = ["counter", "gauge", "histogram", "summary"];
const CAMEL = /[a-z][A-Z]/;

/**
 * Parses a Prometheus text exposition (0.0.4, or OpenMetrics leniently) into families: a `# TYPE` line opens a
 * family, samples whose names extend it belong to it, any other sample opens an untyped family of its own.
 */
export function parseExposition(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", labelNames: new Set(), sampleNames: new Set(), samples: [] };
      families.set(name, f);
    }
    return f;
  };
  let current: MetricFamily | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (!match) continue;
      const [, keyword, name = "", rest = ""] = match;
      const f = family(name);
      if (keyword === "HELP") f.help = rest;
      else f.type = (TYPES.includes(rest) ? rest : "untyped") as MetricFamily["type"];
      current = f;
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!sample) continue;
    const [, name = "", , labelText = "", value = ""] = sample;
    const owner =
      current && (name === current.name || (name.startsWith(`${current.name}_`) && name.length > current.name.length))
        ? current
        : family(name);
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    owner.sampleNames.add(name);
    for (const key of Object.keys(labels)) owner.labelNames.add(key);
    owner.samples.push({ name, labels, value: Number(value) });
  }
  return [...families.values()];
}

/** promlint's problems for one family, worded as promtool prints them. */
export function lintFamily(f: MetricFamily): LintProblem[] {
  const problems: string[] = [];
  const name = f.name;
  const lower = name.toLowerCase();
  if (f.help === undefined) problems.push("no help text");
  const tokens = name.split("_");
  for (const token of tokens) {
    const base =
      UNITS[token] ?? UNIT_PREFIXES.map((p) => token.startsWith(p) && UNITS[token.slice(p.length)]).find(Boolean);
    if (base) {
      if (base !== token) problems.push(`use base unit "${base}" instead of "${token}"`);
      break;
    }
  }
  const total = name.endsWith("_total");
  if (f.type === "counter" && !total) problems.push('counter metrics should have "_total" suffix');
  if (f.type !== "untyped" && f.type !== "counter" && total)
    problems.push('non-counter metrics should not have "_total" suffix');
  if (f.type !== "untyped") {
    const histogram = f.type === "histogram";
    const summary = f.type === "summary";
    if (!histogram && name.endsWith("_bucket")) problems.push('non-histogram metrics should not have "_bucket" suffix');
    if (!histogram && !summary && name.endsWith("_count"))
      problems.push('non-histogram and non-summary metrics should not have "_count" suffix');
    if (!histogram && !summary && name.endsWith("_sum"))
      problems.push('non-histogram and non-summary metrics should not have "_sum" suffix');
    if (!histogram && f.labelNames.has("le")) problems.push('non-histogram metrics should not have "le" label');
    if (!summary && f.labelNames.has("quantile")) problems.push('non-summary metrics should not have "quantile" label');
  }
  for (const type of TYPES)
    if (lower.includes(`_${type}_`) || lower.endsWith(`_${type}`))
      problems.push(`metric name should not include type '${type}'`);
  if (name.includes(":")) problems.push("metric names should not contain ':'");
  if (CAMEL.test(name)) problems.push("metric names should be written in 'snake_case' not 'camelCase'");
  if ([...f.labelNames].some((l) => CAMEL.test(l)))
    problems.push("label names should be written in 'snake_case' not 'camelCase'");
  for (const abbreviation of UNIT_ABBREVIATIONS)
    if (lower.includes(`_${abbreviation}_`) || lower.endsWith(`_${abbreviation}`))
      problems.push("metric names should not contain abbreviated units");
  return problems.map((text) => ({ metric: name, text }));
}

/** Every problem promtool would report for an exposition, one per line as "name text", sorted. */
export function lintExposition(text: string): LintProblem[] {
  return [...lint(text).problems];
}

/** How many metric families an exposition holds. */
export function familyCount(text: string): number {
  return lint(text).families;
}

/** The last expositions linted: mutation testing judges the same texts hundreds of times. */
const linted = new Map<string, { families: number; problems: readonly LintProblem[] }>();

function lint(text: string): { families: number; problems: readonly LintProblem[] } {
  let result = linted.get(text);
  if (!result) {
    const families = parseExposition(text);
    result = {
      families: families.length,
      problems: families
        .flatMap(lintFamily)
        .sort((a, b) => a.metric.localeCompare(b.metric) || a.text.localeCompare(b.text)),
    };
    if (linted.size >= 64) linted.delete(linted.keys().next().value!);
    linted.set(text, result);
  }
  return result;
}
