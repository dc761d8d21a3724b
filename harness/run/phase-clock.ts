import type { Reporter } from "../report/reporter";

/** Times a scenario's phases on one clock and tells the reporter when each begins and ends. */
export class PhaseClock {
  readonly startedMs = performance.now();
  readonly phases: Record<string, number> = {};

  constructor(
    private readonly scenario: string,
    private readonly reporter: Pick<Reporter, "onPhase">,
  ) {}

  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    this.reporter.onPhase?.({ scenario: this.scenario, phase: name });
    try {
      return await fn();
    } finally {
      this.phases[name] = Math.round(performance.now() - t);
      this.reporter.onPhase?.({ scenario: this.scenario, phase: name, ms: this.phases[name] });
    }
  }

  /** Wall time since the scenario began, in ms. */
  elapsedMs(): number {
    return Math.round(performance.now() - this.startedMs);
  }
}
