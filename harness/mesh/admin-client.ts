/**
 * A service fault as the admin API takes it (services/README.md documents the API). Request faults: an error at
 * `rate` answering an HTTP `status` or a gRPC `code`, or an added latency of `ms` (+- jitterMs); `target` is a route
 * template ("POST /orders"), a gRPC method ("Charge") or "*". Resource faults act on the whole process and take no
 * target: `mb` MB held on the heap, the event loop blocked `blockMs` every `everyMs` (Node services only; the Go
 * service answers 400), `fraction` of one core burnt.
 */
export type AdminFault =
  | { kind: "error"; target: string; rate: number; status?: number; code?: string }
  | { kind: "latency"; target: string; ms: number; jitterMs?: number; rate?: number }
  | { kind: "memory"; mb: number }
  | { kind: "stall"; blockMs: number; everyMs: number }
  | { kind: "cpu"; fraction: number };

/** What GET /admin/telemetry answers. */
export interface TelemetryStats {
  config?: Record<string, unknown>;
  spans: { started: number; ended: number; exported: number; exportFailures: number };
}

/** A fault the service applied, with the id it reverts by. */
export type Fault = AdminFault & { id: string };

/** Typed client of one service's admin API (127.0.0.1, bearer token). Non-2xx answers throw with the body. */
export class AdminClient {
  constructor(
    readonly url: string,
    /** Its bearer token (the journal on disk keeps it: a fault must be revertible without the harness). */
    readonly token: string,
  ) {}

  async listFaults(): Promise<Fault[]> {
    return (await this.call<{ faults: Fault[] }>("GET", "/admin/faults")).faults;
  }

  addFault(spec: AdminFault): Promise<Fault> {
    return this.call("POST", "/admin/faults", spec);
  }

  /** Removing a fault that is already gone is not an error (reverts are idempotent). */
  async removeFault(id: string): Promise<void> {
    await this.call("DELETE", `/admin/faults/${encodeURIComponent(id)}`, undefined, [404]);
  }

  async clearFaults(): Promise<number> {
    return (await this.call<{ removed: number }>("DELETE", "/admin/faults")).removed;
  }

  /** Force-exports the service's finished spans. */
  async flush(): Promise<void> {
    await this.call("POST", "/admin/flush");
  }

  /** The service's tracing configuration and its span pipeline counts (started, ended, exported, export failures). */
  telemetry(): Promise<TelemetryStats> {
    return this.call("GET", "/admin/telemetry");
  }

  /**
   * The service's metrics page once its listeners have drained after SIGTERM (ask right after the signal): the
   * counters' final values. Undefined when the service has no such endpoint or exited first.
   */
  async finalMetrics(timeoutMs = 8_000): Promise<string | undefined> {
    try {
      const response = await fetch(`${this.url}/admin/metrics/final`, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      return response.ok ? await response.text() : undefined;
    } catch {
      return undefined;
    }
  }

  private async call<T>(method: string, route: string, body?: unknown, tolerated: number[] = []): Promise<T> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok && !tolerated.includes(response.status)) {
      throw new Error(`admin ${method} ${this.url}${route} answered ${response.status}: ${text}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
