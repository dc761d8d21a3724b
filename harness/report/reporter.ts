import type { LoadCounts } from "../load/progress";
import type { ScenarioRun } from "../run/scenario-run";
import type { SavedScenario } from "./evidence-file";
import type { Verdict } from "./verdict";

/** The run about to start: the scenarios in the order they will run, and where its files go. */
export interface RunBegin {
  scenarios: readonly string[];
  reportDir: string;
}

/** A scenario is about to run: its name and place in the run (0-based index). */
export interface ScenarioBegin {
  name: string;
  index: number;
  total: number;
}

/** A phase of a scenario began (no `ms`) or ended (`ms`: how long it took). */
export interface PhaseEvent {
  scenario: string;
  phase: string;
  ms?: number;
}

/** The load's counts so far, with the faults in place now (as "kind target"). */
export interface LoadProgress extends LoadCounts {
  scenario: string;
  faults: readonly string[];
}

/** A scenario ended: its run (verdict, evidence, expectations, logs), and its place in the run. */
export interface ScenarioEnd {
  run: ScenarioRun;
  index: number;
  total: number;
}

/** The run ended: its verdict and every judged scenario's evidence. */
export interface RunEnd {
  verdict: Verdict;
  saved: readonly SavedScenario[];
  reportDir: string;
}

/**
 * One output of a run (console summary, live progress, a file): every callback is optional. A reporter that throws
 * is reported by name and the others still run (ReporterMultiplexer).
 */
export interface Reporter {
  onRunBegin?(begin: RunBegin): void | Promise<void>;
  /** A line of the run's own story (setup, backend choice, a scenario's status). */
  onLog?(line: string): void;
  onScenarioBegin?(begin: ScenarioBegin): void;
  onPhase?(event: PhaseEvent): void;
  onLoadProgress?(progress: LoadProgress): void;
  onScenarioEnd?(end: ScenarioEnd): void | Promise<void>;
  onRunEnd?(end: RunEnd): void | Promise<void>;
}

/** Where reporters write: stdout is the verdict's, stderr the progress's (a terminal or not). */
export interface ReporterContext {
  reportDir: string;
  /** The reporters of the run by name (one may point at another's file: the console at report.html). */
  reporters?: readonly string[];
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

/** Makes a reporter for one run. */
export type ReporterFactory = (context: ReporterContext) => Reporter;
