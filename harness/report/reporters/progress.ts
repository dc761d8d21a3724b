import type { LoadProgress, ReporterFactory, ScenarioBegin } from "../reporter";

export type { LoadProgress } from "../reporter";

/** Where progress goes: a stream, and whether it is a terminal (then one line is redrawn in place). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** How often a plain (not a terminal) load line is written while the faults in place stay the same. */
  plainEveryMs?: number;
  now?: () => number;
  /** A CI whose log folds groups: each scenario becomes one (GitHub Actions' `::group::`). */
  ci?: "github";
}

/**
 * Live progress on stderr, as k6 shows it. Each scenario starts with `[i/N] name`, the run's elapsed time and an ETA
 * for the catalog (the mean time of the scenarios done so far, times the ones left). On a terminal: the current
 * phase, and during load a bar redrawn in place (requests sent/planned, failures so far, the rate, the time left,
 * the fault in place), cleared before every log line. Elsewhere (CI): plain lines only, a load line every
 * `plainEveryMs` and whenever the faults in place change, so a log keeps the story; on GitHub Actions each scenario
 * is a collapsible group.
 */
export class Progress {
  private drawn = false;
  private lastPlainMs = -Infinity;
  private lastFaults = "";
  private runStartMs: number | undefined;
  private done = 0;
  /** The scenarios whose load runs now: when it began and its latest counts. */
  private readonly loads = new Map<string, { startMs: number; progress: LoadProgress }>();
  private grouped = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly options: ProgressOptions = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A log line: kept in the output (on a terminal, above the live line). */
  readonly log = (line: string): void => {
    this.clear();
    this.out.write(`${line}\n`);
  };

  /**
   * A scenario begins: `[i/N] name (elapsed ..., ETA ...)`, on GitHub Actions as the title of its group. The ETA is
   * the run's pace so far (scenarios done per elapsed time, whatever ran at once) over the scenarios left.
   */
  scenarioBegin({ name, index, total }: ScenarioBegin): void {
    const now = this.now();
    this.runStartMs ??= now;
    const elapsed = now - this.runStartMs;
    const eta = this.done ? duration((elapsed / this.done) * (total - this.done)) : "-";
    const line = `[${index + 1}/${total}] ${name} (elapsed ${duration(elapsed)}, ETA ${eta})`;
    if (this.options.ci === "github" && !this.out.isTTY) {
      this.endGroup();
      this.out.write(`::group::${line}\n`);
      this.grouped = true;
    } else this.log(line);
  }

  /** A scenario ended: its status line, which closes its group on GitHub Actions. */
  scenarioEnd(name: string, line: string): void {
    this.done++;
    this.loads.delete(name);
    this.log(line);
    this.endGroup();
  }

  /** A phase began (its end is logged with its duration): on a terminal, shown until the next update. */
  phase(scenario: string, name: string): void {
    this.loads.delete(scenario);
    if (this.out.isTTY) this.draw(`  ${scenario}: ${name}…`);
  }

  /**
   * A scenario's load counts. On a terminal, one scenario's load is a bar with its figures; several at once (--workers)
   * share the line, each as its name, the share of its requests sent, failures and fault.
   */
  load(progress: LoadProgress): void {
    const now = this.now();
    const started = this.loads.get(progress.scenario)?.startMs ?? now;
    this.loads.set(progress.scenario, { startMs: started, progress });
    const pace = rateAndLeft(progress, (now - started) / 1000);
    const faults = progress.faults.join(", ");
    if (this.out.isTTY) {
      const running = [...this.loads.values()].map((l) => l.progress);
      this.draw(
        running.length === 1
          ? `  ${progress.scenario}: load ${bar(progress.sent / Math.max(1, progress.planned))} ${summary(progress, pace)}`
          : `  load: ${running.map(brief).join(" | ")}`,
      );
      return;
    }
    if (faults === this.lastFaults && now - this.lastPlainMs < (this.options.plainEveryMs ?? 10_000)) return;
    this.lastPlainMs = now;
    this.lastFaults = faults;
    this.out.write(`  ${progress.scenario}: load ${summary(progress, pace)}\n`);
  }

  /** Clears the live line (a terminal only). */
  clear(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }

  /** The run ended: nothing left drawn, no group left open. */
  end(): void {
    this.clear();
    this.endGroup();
  }

  private endGroup(): void {
    if (!this.grouped) return;
    this.out.write("::endgroup::\n");
    this.grouped = false;
  }

  private draw(line: string): void {
    const width = Math.max(20, (this.out.columns || 100) - 1); // a pty of unknown size says 0
    this.out.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.drawn = true;
  }
}

/** The load's rate so far and the time its plan has left at that rate, once a second of it has passed. */
function rateAndLeft(p: LoadProgress, elapsedS: number): string {
  if (elapsedS < 1 || p.sent === 0) return "";
  const rate = p.sent / elapsedS;
  return `, ${Math.round(rate).toLocaleString("en-US")} req/s, ${duration(((p.planned - p.sent) / rate) * 1000)} left`;
}

/** "baseline 45% 0 failed": one of several loads at once. */
function brief(p: LoadProgress): string {
  const fault = p.faults.length ? ` fault ${p.faults.join(", ")}` : "";
  return `${p.scenario} ${Math.round((100 * p.sent) / Math.max(1, p.planned))}% ${p.failed.toLocaleString("en-US")} failed${fault}`;
}

function summary(p: LoadProgress, pace: string): string {
  const fault = p.faults.length ? `, fault ${p.faults.join(", ")}` : ", no fault";
  return `${p.sent.toLocaleString("en-US")}/${p.planned.toLocaleString("en-US")} requests sent, ${p.failed.toLocaleString("en-US")} failed${pace}${fault}`;
}

/** "42 s", "3m05s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

function bar(fraction: number, width = 20): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

/** Live progress on stderr: the run's log lines, each scenario and phase, and the load while it runs. */
export const progressReporter: ReporterFactory = ({ stderr }) => {
  const progress = new Progress(stderr, process.env.GITHUB_ACTIONS === "true" ? { ci: "github" } : {});
  return {
    onLog: progress.log,
    onScenarioBegin: (begin) => progress.scenarioBegin(begin),
    onPhase: (e) =>
      e.ms === undefined ? progress.phase(e.scenario, e.phase) : progress.log(`  ${e.scenario}: ${e.phase} ${e.ms} ms`),
    onLoadProgress: (p) => progress.load(p),
    onScenarioEnd: ({ run: { verdict } }) =>
      progress.scenarioEnd(
        verdict.name,
        `  ${verdict.name}: ${verdict.status.toUpperCase()} in ${verdict.durationMs} ms${verdict.abortReason ? `: ${verdict.abortReason}` : ""}`,
      ),
    onRunEnd: () => progress.end(),
  };
};
