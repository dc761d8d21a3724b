import { evaluate } from "../../assertions/evaluate";
import { TraceCache } from "../../assertions/run-view";
import type { AssertionFamily } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import type { MutationOperator, OperatorScope } from "../../assertions/mutation";
import type { SavedScenario } from "../report/evidence-file";
import { createRng } from "../util/rng";
import { OPERATORS } from "./operators";

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
  /** The operator's scope (MutationOperator.scope); absent means wholesale. */
  scope?: OperatorScope;
}

/** A margin mutant no assertion killed: a gap at the margin, with the assertion that should have noticed. */
export interface MarginSurvivor {
  scenario: string;
  operator: string;
  change: string;
  /** The operator's target id: the assertion that should have failed. */
  killedBy: string;
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
  /** Killed share of the wholesale operators' mutants (0 with none). */
  wholesaleKillRate: number;
  /** Killed share of the margin operators' mutants (0 with none): the judge's power at the margin. */
  marginKillRate: number;
  total: Tally;
  byScope: Record<OperatorScope, Tally>;
  byFamily: Record<string, Tally>;
  byOperator: Record<
    string,
    Tally & { family: AssertionFamily; scope: OperatorScope; killedBy: string; models: string }
  >;
  /** Scenarios whose recorded verdict did not pass: mutants of a failing run prove nothing. */
  skipped: { scenario: string; reason: string }[];
  survivors: MutantResult[];
  /** Every surviving margin mutant, with the assertion that should have killed it (also among survivors). */
  marginSurvivors: MarginSurvivor[];
  mutantsPerOperator: number;
  wallMs: number;
}

export interface MutateOptions {
  /** Mutants per operator and scenario (different picks). Default 2. */
  perOperator?: number;
  /** Seed of the picks. Default 1. */
  seed?: number;
  operators?: readonly MutationOperator[];
}

/**
 * Applies every operator to every passing scenario's evidence, `perOperator` times with different picks, and judges
 * each mutant with the scenario's own expectations: the share of mutants some assertion kills is the judge's
 * measured power to fail. In this thread; `npm run mutate` spreads the same work over worker threads (pool.ts).
 */
export function runMutations(
  scenarios: readonly SavedScenario[],
  options: MutateOptions = {},
): { report: MutationReport; results: MutantResult[] } {
  const started = performance.now();
  const operators = options.operators ?? OPERATORS;
  const results: MutantResult[] = [];
  const skipped: MutationReport["skipped"] = [];
  const cache = new TraceCache();
  for (const scenario of scenarios) {
    const reason = unjudgeable(scenario, cache);
    if (reason) skipped.push({ scenario: scenario.name, reason });
    else for (const operator of operators) results.push(...mutantsOf(scenario, operator, options, cache));
  }
  return summarize(results, skipped, operators, options.perOperator ?? 2, performance.now() - started);
}

/** Why a scenario's mutants would prove nothing: its own evidence already fails (undefined when it passes). */
export function unjudgeable(scenario: SavedScenario, cache?: TraceCache): string | undefined {
  const failed = evaluate(scenario.evidence, scenario.expectations, cache).filter((a) => a.status === "failed");
  return failed.length ? `its evidence already fails ${failed.map((a) => a.id).join(", ")}` : undefined;
}

/**
 * One operator's mutants of one scenario, judged. Its picks depend only on the seed, the scenario and the operator,
 * so the mutants are the same whichever thread builds them. The cache keeps the traces a mutant did not change indexed
 * (operators copy what they change, never change the scenario's evidence).
 */
export function mutantsOf(
  scenario: SavedScenario,
  operator: MutationOperator,
  options: Pick<MutateOptions, "perOperator" | "seed">,
  cache?: TraceCache,
): MutantResult[] {
  const rng = createRng((options.seed ?? 1) ^ hash(`${scenario.name}/${operator.name}`));
  const seen = new Set<string>();
  const results: MutantResult[] = [];
  for (let i = 0; i < (options.perOperator ?? 2); i++) {
    const mutant = operator.apply(scenario.evidence, rng, scenario.expectations);
    if (!mutant || seen.has(mutant.change)) continue;
    seen.add(mutant.change);
    // The family of the id that must notice is judged first; only a mutant it lets through is judged whole.
    const failedIn = (expectations: Expectations) =>
      evaluate(mutant.evidence, expectations, cache)
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
      scope: operator.scope ?? "wholesale",
    });
  }
  return results;
}

/** The report of judged mutants: tallies per operator, per family and in total, and every survivor. */
export function summarize(
  results: MutantResult[],
  skipped: MutationReport["skipped"],
  operators: readonly MutationOperator[],
  perOperator: number,
  wallMs: number,
): { report: MutationReport; results: MutantResult[] } {
  const tally = (list: readonly MutantResult[]): Tally => {
    const killed = list.filter((r) => r.killed).length;
    return { mutants: list.length, killed, survived: list.length - killed };
  };
  const byFamily = new Map<string, MutantResult[]>();
  for (const r of results) {
    const list = byFamily.get(r.family);
    if (list) list.push(r);
    else byFamily.set(r.family, [r]);
  }
  const total = tally(results);
  const byName = new Map(operators.map((o) => [o.name, o]));
  const scopeOf = (r: MutantResult): OperatorScope => r.scope ?? byName.get(r.operator)?.scope ?? "wholesale";
  const byScope = {
    wholesale: tally(results.filter((r) => scopeOf(r) === "wholesale")),
    margin: tally(results.filter((r) => scopeOf(r) === "margin")),
  };
  const rate = (t: Tally) => (t.mutants ? t.killed / t.mutants : 0);
  const byOperator: MutationReport["byOperator"] = {};
  for (const operator of operators) {
    const list = results.filter((r) => r.operator === operator.name);
    byOperator[operator.name] = {
      ...tally(list),
      family: operator.family,
      scope: operator.scope ?? "wholesale",
      killedBy: operator.killedBy,
      models: operator.models,
    };
  }
  return {
    results,
    report: {
      version: 1,
      killRate: total.mutants ? total.killed / total.mutants : 0,
      wholesaleKillRate: rate(byScope.wholesale),
      marginKillRate: rate(byScope.margin),
      total,
      byScope,
      byFamily: Object.fromEntries([...byFamily].map(([k, v]) => [k, tally(v)])),
      byOperator,
      skipped,
      survivors: results.filter((r) => !r.killed),
      marginSurvivors: results
        .filter((r) => !r.killed && scopeOf(r) === "margin")
        .map((r) => ({
          scenario: r.scenario,
          operator: r.operator,
          change: r.change,
          killedBy: byName.get(r.operator)?.killedBy ?? "?",
        })),
      mutantsPerOperator: perOperator,
      wallMs: Math.round(wallMs),
    },
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
