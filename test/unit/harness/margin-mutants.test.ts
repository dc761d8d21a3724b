import { evaluate } from "../../../assertions/evaluate";
import type { Evidence, MetricSample } from "../../../assertions/evidence";
import type { MutationOperator } from "../../../assertions/mutation";
import { marginCount, pickSome } from "../../../assertions/mutation-support";
import type { Span } from "../../../assertions/trace-model";
import { runMutations } from "../../../harness/mutate/engine";
import { OPERATORS } from "../../../harness/mutate/operators";
import { mutationTable } from "../../../harness/mutate/table";
import { createRng } from "../../../harness/util/rng";
import { catalogFixture, scenarioFixture } from "../../support/evidence-fixture";
import { KNOWN_MARGIN_SURVIVORS, knownMarginSurvivor } from "../../support/margin-survivors";

const margin = OPERATORS.filter((o) => o.scope === "margin");
const operator = (name: string) => margin.find((o) => o.name === name)!;

/** What a margin mutant moved: how many observations of how many, and whether each moved by one unit. */
interface Moved {
  changed: number;
  total: number;
  byOneUnit: boolean;
}

const key = (s: MetricSample) => `${s.name}${JSON.stringify(s.labels)}`;
const valueMap = (samples: readonly MetricSample[]) => new Map(samples.map((s) => [key(s), s.value]));

/** Every span of every trace, by trace and span id. */
function spansOf(e: Evidence): Map<string, Span> {
  const spans = new Map<string, Span>();
  for (const [traceId, trace] of Object.entries(e.traces))
    for (const s of trace?.spans ?? []) spans.set(`${traceId}/${s.spanId}`, s);
  return spans;
}

/** The server spans that differ between two evidences, and all server spans of their service. */
function changedServerSpans(before: Evidence, after: Evidence) {
  const a = spansOf(before);
  const changed = [...spansOf(after)].filter(([id, s]) => a.get(id) !== s).map(([id, s]) => [a.get(id)!, s] as const);
  const services = new Set(changed.map(([s]) => s.service));
  const total = [...a.values()].filter((s) => s.kind === "server" && services.has(s.service)).length;
  return { changed, services, total };
}

/** Per margin operator: what its mutant moved, counted from the evidence before and after. */
const MEASURE: Record<string, (before: Evidence, after: Evidence) => Moved> = {
  "margin-histogram-observations": (before, after) => {
    const start = valueMap(before.metrics.start);
    const was = valueMap(before.metrics.end);
    const sums = after.metrics.end.filter((s) => s.name.endsWith("_sum") && was.get(key(s)) !== s.value);
    expect(sums).toHaveLength(1);
    const sum = sums[0]!;
    const base = sum.name.replace(/_sum$/, "");
    const count = { ...sum, name: `${base}_count` };
    const n = was.get(key(count))! - (start.get(key(count)) ?? 0);
    // Each bucket's own calls (not cumulative), before and after: a moved call leaves one bucket for a higher one.
    const labels = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    const own = (samples: readonly MetricSample[]) => {
      const buckets = samples
        .filter((s) => {
          const { le: _le, ...rest } = s.labels;
          return s.name === `${base}_bucket` && labels(rest) === labels(sum.labels);
        })
        .map((s) => ({
          le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le),
          v: s.value - (start.get(key(s)) ?? 0),
        }))
        .sort((x, y) => x.le - y.le);
      return buckets.map((b, i) => ({ le: b.le, own: b.v - (i ? buckets[i - 1]!.v : 0) }));
    };
    const b = own(before.metrics.end);
    const a = own(after.metrics.end);
    const changed = b.reduce((moved, x, i) => moved + Math.max(0, x.own - a[i]!.own), 0);
    // Still a histogram (no bucket below zero calls, +Inf == _count as before), its _sum rose, and the moved calls
    // landed at least 500x above where they were (x1000 of an estimate within their bucket).
    const departed = b.filter((x, i) => x.own > a[i]!.own).map((x) => x.le);
    const arrived = a.filter((x, i) => x.own > b[i]!.own).map((x) => x.le);
    const byOneUnit =
      b.length > 0 &&
      a.every((x) => x.own >= 0) &&
      sum.value > was.get(key(sum))! &&
      Math.min(...arrived) >= 500 * Math.min(...departed);
    return { changed, total: n, byOneUnit };
  },
  "margin-counter-codes": (before, after) => {
    const was = valueMap(before.metrics.end);
    const start = valueMap(before.metrics.start);
    const diffs = after.metrics.end.map((s) => ({ s, d: s.value - (was.get(key(s)) ?? 0) })).filter((x) => x.d !== 0);
    expect(diffs).toHaveLength(2);
    const [from, to] = diffs[0]!.d < 0 ? [diffs[0]!, diffs[1]!] : [diffs[1]!, diffs[0]!];
    const total = was.get(key(from.s))! - (start.get(key(from.s)) ?? 0);
    // Same series but for one label (the code): the calls moved from one code to another, none made or lost.
    const otherLabels = Object.keys(from.s.labels).filter((k) => from.s.labels[k] !== to.s.labels[k]);
    return { changed: -from.d, total, byOneUnit: from.d === -to.d && otherLabels.length === 1 };
  },
  "margin-gauge-samples": (before, after) => {
    const i = after.metrics.range.findIndex((s, j) => s !== before.metrics.range[j]);
    const [b, a] = [before.metrics.range[i]!, after.metrics.range[i]!];
    const moved = a.values.filter(([, v], j) => v !== b.values[j]![1]);
    const byOneUnit = a.values.every(
      ([t, v], j) => t === b.values[j]![0] && (v === b.values[j]![1] || v === 1000 * b.values[j]![1]),
    );
    expect(after.metrics.range.filter((s, j) => s !== before.metrics.range[j])).toHaveLength(1);
    return { changed: moved.length, total: b.values.length, byOneUnit };
  },
  "margin-probe-answers": (before, after) => {
    const moved = after.probes.filter((p, i) => p !== before.probes[i]);
    const services = new Set(moved.map((p) => p.service));
    const total = before.probes.filter((p) => p.probe === "readyz" && services.has(p.service)).length;
    const byOneUnit = after.probes.every(
      (p, i) =>
        p === before.probes[i] || (before.probes[i]!.status === 200 && p.status === 503 && p.probe === "readyz"),
    );
    return { changed: moved.length, total: services.size === 1 ? total : 0, byOneUnit };
  },
  "margin-log-span-ids": (before, after) => {
    const services = Object.keys(after.logs).filter((s) => after.logs[s] !== before.logs[s]);
    expect(services).toHaveLength(1);
    const service = services[0]!;
    const spans = [...spansOf(before).values()];
    const pairs = after.logs[service]!.map((l, i) => [before.logs[service]![i]!, l] as const).filter(
      ([b, a]) => b !== a,
    );
    // Each moved line names its caller's span: the parent of the span it named before.
    const byOneUnit = pairs.every(([b, a]) =>
      spans.some(
        (s) =>
          s.spanId === b.span_id && s.service === service && s.parentSpanId === a.span_id && a.trace_id === b.trace_id,
      ),
    );
    return { changed: pairs.length, total: before.logs[service]!.length, byOneUnit };
  },
  "margin-span-durations": (before, after) => {
    const { changed, services, total } = changedServerSpans(before, after);
    const byOneUnit = changed.every(([b, a]) => a.durationUs === 1000 * b.durationUs && a.kind === "server");
    return { changed: changed.length, total: services.size === 1 ? total : 0, byOneUnit };
  },
  "margin-span-status": (before, after) => {
    const { changed, services, total } = changedServerSpans(before, after);
    const codes = (s: Span) => Object.entries(s.attributes).filter(([k]) => /status_code/.test(k));
    const byOneUnit = changed.every(([b, a]) => {
      const [was, now] = [codes(b), codes(a)];
      const moved = now.filter(([k, v]) => b.attributes[k] !== v);
      return (
        moved.length === 1 &&
        was.length === now.length &&
        (
          [
            [0, 14],
            ["OK", "UNAVAILABLE"],
            [200, 500],
            ["200", "500"],
          ] as const
        ).some(([from, to]) => b.attributes[moved[0]![0]] === from && moved[0]![1] === to) &&
        a.status === b.status
      );
    });
    return { changed: changed.length, total: services.size === 1 ? total : 0, byOneUnit };
  },
};

describe("margin mutation operators", () => {
  test("seven margin operators, appended after every wholesale one, each measured here", () => {
    const firstMargin = OPERATORS.findIndex((o) => o.scope === "margin");
    expect(margin.map((o) => o.name)).toEqual(Object.keys(MEASURE));
    expect(OPERATORS.slice(firstMargin).every((o) => o.scope === "margin")).toBe(true);
    expect(OPERATORS.slice(0, firstMargin).every((o) => (o.scope ?? "wholesale") === "wholesale")).toBe(true);
  });

  test("marginCount draws 1-10% and at least one, and none below ten observations", () => {
    const rng = createRng(5);
    expect(marginCount(9, rng)).toBeUndefined();
    for (const n of [10, 11, 37, 160, 5000])
      for (let i = 0; i < 50; i++) {
        const k = marginCount(n, rng)!;
        expect(k >= 1 && k <= Math.max(1, 0.1 * n) && (k === 1 || k >= Math.floor(0.01 * n))).toBe(true);
      }
    const picked = pickSome([1, 2, 3, 4, 5, 6], 3, rng);
    expect(new Set(picked).size).toBe(3);
    expect([...picked].sort()).toEqual(picked);
  });

  // Each operator on one scenario's evidence (payments-errors: faults, failures and >= 10 of every observation) and,
  // for a known survivor, the scenario it survives in.
  const cases = margin.flatMap((o) => [
    { operator: o.name, scenario: "payments-errors" },
    ...KNOWN_MARGIN_SURVIVORS.filter((s) => s.operator === o.name && s.scenarios !== "every").flatMap((s) =>
      (s.scenarios as readonly string[]).map((scenario) => ({ operator: o.name, scenario })),
    ),
  ]);

  test.each(cases)(
    "$operator on $scenario moves a minority by one unit, and is killed unless a known survivor",
    ({ operator: name, scenario }) => {
      const { evidence, expectations } = scenarioFixture(scenario);
      const op: MutationOperator = operator(name);
      for (const seed of [1, 2, 3]) {
        const mutant = op.apply(evidence, createRng(seed), expectations);
        expect(mutant).toBeDefined();
        const moved = MEASURE[name]!(evidence, mutant!.evidence);
        expect(moved.byOneUnit).toBe(true);
        expect(moved.changed).toBeGreaterThanOrEqual(1);
        expect(moved.total).toBeGreaterThanOrEqual(10);
        expect(moved.changed / moved.total).toBeLessThanOrEqual(0.1);
        expect(mutant!.change).toContain(`${moved.changed} of `);
        const failed = evaluate(mutant!.evidence, expectations)
          .filter((a) => a.status === "failed")
          .map((a) => a.id);
        // A known survivor: the test says so, and fails the day the judge starts killing it.
        expect({ change: mutant!.change, killed: failed.includes(op.killedBy) }).toEqual({
          change: mutant!.change,
          killed: !knownMarginSurvivor(name, scenario, mutant!.change),
        });
      }
    },
  );
});

describe("margin mutants over the catalog fixture", () => {
  const { report, results } = runMutations(catalogFixture(), { perOperator: 2, seed: 1, operators: margin });

  test("every margin operator produced mutants; the margin kill rate is reported apart", () => {
    expect(Object.entries(report.byOperator).filter(([, t]) => t.mutants === 0)).toEqual([]);
    expect(report.byScope.wholesale.mutants).toBe(0);
    expect(report.byScope.margin.mutants).toBe(report.total.mutants);
    expect(report.marginKillRate).toBe(report.total.killed / report.total.mutants);
    expect(mutationTable(report)).toMatch(/^scope margin\s+\d+\s+\d+\s+\d+\s+\d+\.\d%$/m);
    expect(mutationTable(report)).toMatch(/^margin-gauge-samples \(margin\)\s+runtime/m);
  });

  test("the survivors are exactly the known ones, each listed with the assertion that should have killed it", () => {
    const survived = results.filter((r) => !r.killed).map((r) => `${r.operator} ${r.scenario}`);
    const expected = results
      .filter((r) => knownMarginSurvivor(r.operator, r.scenario, r.change))
      .map((r) => `${r.operator} ${r.scenario}`);
    expect(survived).toEqual(expected);
    expect(report.marginSurvivors).toEqual(
      results
        .filter((r) => !r.killed)
        .map((r) => ({
          scenario: r.scenario,
          operator: r.operator,
          change: r.change,
          killedBy: operator(r.operator).killedBy,
        })),
    );
    // Every other margin mutant fell to the assertion its operator names.
    expect(results.filter((r) => r.killed && !r.targetKilled)).toEqual([]);
  });
});
