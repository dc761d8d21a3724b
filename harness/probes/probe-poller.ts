import http from "node:http";
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
      const response = await probeGet(url, this.options.timeoutMs ?? 1_500);
      const text = response.text;
      let body: ProbeBody | undefined;
      try {
        body = JSON.parse(text) as ProbeBody;
      } catch {
        body = undefined;
      }
      const latencyMs = performance.now() - started;
      return { service, probe, atMs, status: response.status, latencyMs, body, outcome: "answered" };
    } catch (error) {
      // Keep what tells a refusal from a hang.
      const code = (error as { code?: string }).code;
      const outcome =
        (error as Error).name === "TimeoutError" ? "timeout" : code === "ECONNREFUSED" ? "refused" : "error";
      return {
        service,
        probe,
        atMs,
        status: 0,
        latencyMs: performance.now() - started,
        error: code && code !== "ABORT_ERR" ? `probe failed: ${code}` : (error as Error).message,
        outcome,
      };
    }
  }
}

/**
 * One probe on a connection of its own, closed after the answer, as a kubelet probes: a kept-alive connection would
 * still be served by a process whose listener has closed, and a probe must see the listener.
 */
function probeGet(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      response.on("error", reject);
    });
    request.on("error", (error) =>
      reject(request.destroyed && error.name === "AbortError" ? timeoutError(error) : error),
    );
  });
}

/** The abort of AbortSignal.timeout, named as fetch names it. */
function timeoutError(cause: Error): Error {
  return Object.assign(new Error("The operation was aborted due to timeout", { cause }), { name: "TimeoutError" });
}
