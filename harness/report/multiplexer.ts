import type { Reporter } from "./reporter";

type Events = Required<Reporter>;
type EventName = keyof Events;

/**
 * Sends each event to every reporter in order (Playwright's reporter multiplexer is the model). A reporter that
 * throws does not stop the others: its error is kept as one line naming it and the event, printed once the run ends.
 */
export class ReporterMultiplexer implements Events {
  readonly errors: string[] = [];

  constructor(private readonly reporters: readonly { name: string; reporter: Reporter }[]) {}

  onRunBegin(...args: Parameters<Events["onRunBegin"]>): Promise<void> {
    return this.eachAsync("onRunBegin", args);
  }
  onLog(...args: Parameters<Events["onLog"]>): void {
    this.each("onLog", args);
  }
  onScenarioBegin(...args: Parameters<Events["onScenarioBegin"]>): void {
    this.each("onScenarioBegin", args);
  }
  onPhase(...args: Parameters<Events["onPhase"]>): void {
    this.each("onPhase", args);
  }
  onLoadProgress(...args: Parameters<Events["onLoadProgress"]>): void {
    this.each("onLoadProgress", args);
  }
  onScenarioEnd(...args: Parameters<Events["onScenarioEnd"]>): Promise<void> {
    return this.eachAsync("onScenarioEnd", args);
  }
  onRunEnd(...args: Parameters<Events["onRunEnd"]>): Promise<void> {
    return this.eachAsync("onRunEnd", args);
  }

  private each<E extends EventName>(event: E, args: Parameters<Events[E]>): void {
    for (const { name, reporter } of this.reporters) {
      try {
        const result = this.callback(reporter, event)?.(...args);
        if (result instanceof Promise) result.catch((error: unknown) => this.failed(name, event, error));
      } catch (error) {
        this.failed(name, event, error);
      }
    }
  }

  private async eachAsync<E extends EventName>(event: E, args: Parameters<Events[E]>): Promise<void> {
    for (const { name, reporter } of this.reporters) {
      try {
        await this.callback(reporter, event)?.(...args);
      } catch (error) {
        this.failed(name, event, error);
      }
    }
  }

  private callback<E extends EventName>(reporter: Reporter, event: E) {
    const callback = reporter[event] as ((...args: Parameters<Events[E]>) => unknown) | undefined;
    return callback?.bind(reporter);
  }

  private failed(name: string, event: string, error: unknown): void {
    this.errors.push(
      `reporter "${name}" failed in ${event}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
