import type { Fault, FaultSpec, FaultView, ProxyInfo, ProxySpec } from "./api-schema";

/** A control API call that failed: the message names the call and what it answered (or why it got no answer). */
export class L7ProxyError extends Error {
  constructor(
    message: string,
    /** The HTTP status answered; undefined when there was no answer. */
    readonly status?: number,
    /** The body answered. */
    readonly body?: string,
  ) {
    super(message);
    this.name = "L7ProxyError";
  }
}

/** Typed client for the L7 proxy's control API (the counterpart of ToxiproxyClient). */
export class L7ProxyClient {
  constructor(
    /** http://127.0.0.1:PORT of the control API. */
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Every proxy of the process. */
  proxies(): Promise<ProxyInfo[]> {
    return this.call("GET", "/proxies");
  }

  /** Creates a proxy to spec.upstream listening on spec.listen (default: a free 127.0.0.1 port). */
  createProxy(spec: ProxySpec): Promise<ProxyInfo> {
    return this.call("POST", "/proxies", spec);
  }

  /** Stops a proxy; one that is already gone is fine. */
  async deleteProxy(name: string): Promise<void> {
    await this.call("DELETE", `/proxies/${encodeURIComponent(name)}`);
  }

  /** Activates a fault on a proxy; answers it with its defaults filled in. */
  addFault(proxy: string, fault: FaultSpec): Promise<Fault> {
    return this.call("POST", `/proxies/${encodeURIComponent(proxy)}/faults`, fault);
  }

  /** Removes a fault; one already gone, or whose proxy is gone, is fine (reverts are idempotent). */
  async removeFault(proxy: string, id: string): Promise<void> {
    await this.call(
      "DELETE",
      `/proxies/${encodeURIComponent(proxy)}/faults/${encodeURIComponent(id)}`,
      undefined,
      [404],
    );
  }

  /** The proxy's faults with their counters (matched, injected). */
  faults(proxy: string): Promise<FaultView[]> {
    return this.call("GET", `/proxies/${encodeURIComponent(proxy)}/faults`);
  }

  private async call<T>(method: string, route: string, body?: unknown, tolerated: number[] = []): Promise<T> {
    const what = `l7-proxy ${method} ${this.url}${route}`;
    let response: Response;
    try {
      response = await fetch(`${this.url}${route}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new L7ProxyError(`${what} got no answer: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok && !tolerated.includes(response.status))
      throw new L7ProxyError(`${what} answered ${response.status}: ${errorText(text)}`, response.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** The `error` of a JSON error answer, else the body as it came. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : body;
  } catch {
    return body;
  }
}
