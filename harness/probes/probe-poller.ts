import type { ProbeBody, ProbeRecord } from "../../assertions/evidence";

/** A service's probes; one it does not have is not polled. */
export interface ProbeTarget {
  service: string;
  healthzUrl?: string;
  readyzUrl?: string;
}

export interface ProbePollerOptions {
  /** Default 100. */
  intervalMs?: number;
  /**
   * Per poll; longer than the services' 1 s dependency check timeout so a slow 503 is still seen, short enough that
   * a frozen process is seen timing out within the flip bound. Default 1500.
   */
  timeoutMs?: number;
}

/**
 * Polls /healthz and /readyz of every service every intervalMs for the whole run and keeps every answer: the probe
 * timeline is ground truth for the probe assertions. A poll still in flight is not overlapped by the next one.
 */
export class ProbePoller {
  readonly records: ProbeRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly targets: readonly ProbeTarget[],
    private readonly options: ProbePollerOptions = {},
  ) {}

  start(): this {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs ?? 100);
    return this;
  }

  /** Stops polling and waits for the polls in flight; returns the timeline ordered by time. */
  async stop(): Promise<ProbeRecord[]> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.pending);
    return this.records.sort((a, b) => a.atMs - b.atMs);
  }

  private tick(): void {
    for (const target of this.targets) {
      for (const probe of ["healthz", "readyz"] as const) {
        const key = `${target.service}/${probe}`;
        const url = probe === "healthz" ? target.healthzUrl : target.readyzUrl;
        if (url === undefined || this.busy.has(key)) continue;
        this.busy.add(key);
        const poll = this.poll(target.service, probe, url)
          .then((record) => void this.records.push(record))
          .finally(() => {
            this.busy.delete(key);
            this.pending.delete(poll);
          });
        this.pending.add(poll);
      }
    }
  }

  private async poll(service: string, probe: "healthz" | "readyz", url: string): Promise<ProbeRecord> {
    const atMs = Date.now();
    const started = performance.now();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 1_500) });
      const text = await response.text();
      let body: ProbeBody | undefined;
      try {
        body = JSON.parse(text) as ProbeBody;
      } catch {
        body = undefined;
      }
      const latencyMs = performance.now() - started;
      return { service, probe, atMs, status: response.status, latencyMs, body, outcome: "answered" };
    } catch (error) {
      // fetch reports "fetch failed" with the socket's error as its cause: keep what tells a refusal from a hang.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const outcome =
        (error as Error).name === "TimeoutError" ? "timeout" : cause?.code === "ECONNREFUSED" ? "refused" : "error";
      return {
        service,
        probe,
        atMs,
        status: 0,
        latencyMs: performance.now() - started,
        error: cause?.code ? `${(error as Error).message}: ${cause.code}` : (error as Error).message,
        outcome,
      };
    }
  }
}
