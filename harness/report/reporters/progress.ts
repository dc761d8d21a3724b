import type { LoadProgress, ReporterFactory } from "../reporter";

export type { LoadProgress } from "../reporter";

/** Where progress goes: a stream, and whether it is a terminal (then one line is redrawn in place). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Live progress on stderr. On a terminal: the current phase, and during load a bar redrawn in place (requests
 * sent/planned, failures so far, the fault in place), cleared before every log line. Elsewhere (CI): plain lines
 * only, a load line every `plainEveryMs` and whenever the faults in place change, so a log keeps the story.
 */
export class Progress {
  private drawn = false;
  private lastPlainMs = -Infinity;
  private lastFaults = "";

  constructor(
    private readonly out: ProgressStream,
    private readonly options: { plainEveryMs?: number; now?: () => number } = {},
  ) {}

  /** A log line: kept in the output (on a terminal, above the live line). */
  readonly log = (line: string): void => {
    this.clear();
    this.out.write(`${line}\n`);
  };

  /** A phase began (its end is logged with its duration): on a terminal, shown until the next update. */
  phase(scenario: string, name: string): void {
    if (this.out.isTTY) this.draw(`  ${scenario}: ${name}…`);
  }

  load(progress: LoadProgress): void {
    const faults = progress.faults.join(", ");
    if (this.out.isTTY) {
      this.draw(
        `  ${progress.scenario}: load ${bar(progress.sent / Math.max(1, progress.planned))} ${summary(progress)}`,
      );
      return;
    }
    const now = (this.options.now ?? Date.now)();
    if (faults === this.lastFaults && now - this.lastPlainMs < (this.options.plainEveryMs ?? 10_000)) return;
    this.lastPlainMs = now;
    this.lastFaults = faults;
    this.out.write(`  ${progress.scenario}: load ${summary(progress)}\n`);
  }

  /** Clears the live line (a terminal only). */
  clear(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }

  private draw(line: string): void {
    const width = Math.max(20, (this.out.columns || 100) - 1); // a pty of unknown size says 0
    this.out.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.drawn = true;
  }
}

function summary(p: LoadProgress): string {
  const fault = p.faults.length ? `, fault ${p.faults.join(", ")}` : ", no fault";
  return `${p.sent.toLocaleString("en-US")}/${p.planned.toLocaleString("en-US")} requests sent, ${p.failed.toLocaleString("en-US")} failed${fault}`;
}

function bar(fraction: number, width = 20): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

/** Live progress on stderr: the run's log lines, each phase, and the load while it runs. */
export const progressReporter: ReporterFactory = ({ stderr }) => {
  const progress = new Progress(stderr);
  return {
    onLog: progress.log,
    onPhase: (e) =>
      e.ms === undefined ? progress.phase(e.scenario, e.phase) : progress.log(`  ${e.scenario}: ${e.phase} ${e.ms} ms`),
    onLoadProgress: (p) => progress.load(p),
    onScenarioEnd: ({ run: { verdict } }) =>
      progress.log(
        `  ${verdict.name}: ${verdict.status.toUpperCase()} in ${verdict.durationMs} ms${verdict.abortReason ? `: ${verdict.abortReason}` : ""}`,
      ),
    onRunEnd: () => progress.clear(),
  };
};
