import { evaluate } from "../../assertions/evaluate";
import type { AssertionFamily } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import type { SavedScenario } from "../report/evidence-file";
import { createRng } from "../util/rng";
import { OPERATORS, type MutationOperator } from "./operators";

/** One mutant judged: killed when some assertion failed on it (the original passed every one). */
export interface MutantResult {
  scenario: string;
  operator: string;
  family: AssertionFamily;
  change: string;
  killed: boolean;
  /**
   * The assertion ids that failed on the mutant: those of the operator's target family when it killed the mutant
   * (the others are not judged then: one failure is a kill), else of every family.
   */
  killedBy: string[];
  /** Whether the operator's own target id is among them. */
  targetKilled: boolean;
}

export interface Tally {
  mutants: number;
  killed: number;
  survived: number;
}

/** What `npm run mutate` writes to mutation.json. */
export interface MutationReport {
  version: 1;
  /** Killed share of all mutants (every mutant here is non-equivalent: operators only build real changes). */
  killRate: number;
  total: Tally;
  byFamily: Record<string, Tally>;
  byOperator: Record<string, Tally & { family: AssertionFamily; killedBy: string; models: string }>;
  /** Scenarios whose recorded verdict did not pass: mutants of a failing run prove nothing. */
  skipped: { scenario: string; reason: string }[];
  survivors: MutantResult[];
  mutantsPerOperator: number;
  wallMs: number;
}

/**
 * Applies every operator to every passing scenario's evidence, `perOperator` times with different picks, and judges
 * each mutant with the scenario's own expectations: the share of mutants some assertion kills is the judge's
 * measured power to fail.
 */
export function runMutations(
  scenarios: readonly SavedScenario[],
  options: { perOperator?: number; seed?: number; operators?: readonly MutationOperator[] } = {},
): { report: MutationReport; results: MutantResult[] } {
  const started = performance.now();
  const perOperator = options.perOperator ?? 2;
  const operators = options.operators ?? OPERATORS;
  const results: MutantResult[] = [];
  const skipped: MutationReport["skipped"] = [];
  for (const scenario of scenarios) {
    const baseline = evaluate(scenario.evidence, scenario.expectations).filter((a) => a.status === "failed");
    if (baseline.length) {
      skipped.push({
        scenario: scenario.name,
        reason: `its evidence already fails ${baseline.map((a) => a.id).join(", ")}`,
      });
      continue;
    }
    for (const operator of operators) {
      const rng = createRng((options.seed ?? 1) ^ hash(`${scenario.name}/${operator.name}`));
      const seen = new Set<string>();
      for (let i = 0; i < perOperator; i++) {
        const mutant = operator.apply(scenario.evidence, rng, scenario.expectations);
        if (!mutant || seen.has(mutant.change)) continue;
        seen.add(mutant.change);
        // The family of the id that must notice is judged first; only a mutant it lets through is judged whole.
        const failedIn = (expectations: Expectations) =>
          evaluate(mutant.evidence, expectations)
            .filter((a) => a.status === "failed")
            .map((a) => a.id);
        const ownFamily = scenario.expectations.families.filter((f) => operator.killedBy.startsWith(`${f}.`));
        const own = ownFamily.length ? failedIn({ ...scenario.expectations, families: ownFamily }) : [];
        const failed = own.length ? own : failedIn(scenario.expectations);
        results.push({
          scenario: scenario.name,
          operator: operator.name,
          family: operator.family,
          change: mutant.change,
          killed: failed.length > 0,
          killedBy: failed,
          targetKilled: failed.includes(operator.killedBy),
        });
      }
    }
  }
  const tally = (list: readonly MutantResult[]): Tally => {
    const killed = list.filter((r) => r.killed).length;
    return { mutants: list.length, killed, survived: list.length - killed };
  };
  const group = <K extends string>(key: (r: MutantResult) => K) => {
    const out = new Map<K, MutantResult[]>();
    for (const r of results) out.set(key(r), [...(out.get(key(r)) ?? []), r]);
    return out;
  };
  const total = tally(results);
  const byOperator: MutationReport["byOperator"] = {};
  for (const operator of operators) {
    const list = results.filter((r) => r.operator === operator.name);
    byOperator[operator.name] = {
      ...tally(list),
      family: operator.family,
      killedBy: operator.killedBy,
      models: operator.models,
    };
  }
  return {
    results,
    report: {
      version: 1,
      killRate: total.mutants ? total.killed / total.mutants : 0,
      total,
      byFamily: Object.fromEntries([...group((r) => r.family)].map(([k, v]) => [k, tally(v)])),
      byOperator,
      skipped,
      survivors: results.filter((r) => !r.killed),
      mutantsPerOperator: perOperator,
      wallMs: Math.round(performance.now() - started),
    },
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
