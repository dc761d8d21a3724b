import { LOOPBACK } from "../util/ports";
import { httpOk, startComponent, type ComponentRunner, type StartedComponent } from "./component";

export interface ToxicSpec {
  type: "latency" | "timeout" | "reset_peer" | "bandwidth" | "slow_close" | "slicer" | "limit_data";
  name?: string;
  stream?: "upstream" | "downstream";
  toxicity?: number;
  attributes: Record<string, number>;
}

export interface ProxyInfo {
  name: string;
  /** host:port the proxy listens on. */
  listen: string;
  upstream: string;
  enabled: boolean;
}

/** Client for Toxiproxy's HTTP API. */
export class ToxiproxyClient {
  constructor(readonly url: string) {}

  /** Creates a proxy to upstream (host:port) listening on `listen` (default: a free loopback port). */
  createProxy(name: string, upstream: string, listen = `${LOOPBACK}:0`): Promise<ProxyInfo> {
    return this.call("POST", "/proxies", { name, listen, upstream, enabled: true });
  }

  /** Every proxy, by name. */
  async proxies(): Promise<ProxyInfo[]> {
    return Object.values(await this.call<Record<string, ProxyInfo>>("GET", "/proxies"));
  }

  /** Deletes a proxy; deleting one that is already gone is not an error. */
  async deleteProxy(name: string): Promise<void> {
    await this.call("DELETE", `/proxies/${name}`, undefined, [404]);
  }

  /** Enables or disables a proxy: disabled closes its connections and refuses new ones (link down). */
  setEnabled(name: string, enabled: boolean): Promise<ProxyInfo> {
    return this.call("POST", `/proxies/${name}`, { enabled });
  }

  addToxic(proxy: string, toxic: ToxicSpec): Promise<ToxicSpec & { name: string }> {
    return this.call("POST", `/proxies/${proxy}/toxics`, { stream: "downstream", toxicity: 1, ...toxic });
  }

  /** Removes a toxic; removing one that is already gone is not an error (reverts are idempotent). */
  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.call("DELETE", `/proxies/${proxy}/toxics/${toxic}`, undefined, [404]);
  }

  private async call<T>(method: string, route: string, body?: unknown, tolerated: number[] = []): Promise<T> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok && !tolerated.includes(response.status)) {
      throw new Error(`Toxiproxy ${method} ${route} answered ${response.status}: ${text}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export interface StartedToxiproxy {
  component: StartedComponent<"api">;
  url: string;
  client: ToxiproxyClient;
}

export async function startToxiproxy(
  runner: ComponentRunner,
  runDir: string,
  fixedPort?: number,
): Promise<StartedToxiproxy> {
  const component = await startComponent(
    {
      name: "toxiproxy",
      portNames: ["api"],
      fixedPorts: fixedPort === undefined ? {} : { api: fixedPort },
      args: (ports) => ["-host", LOOPBACK, "-port", String(ports.api)],
      ready: (ports) => httpOk(`http://${LOOPBACK}:${ports.api}/version`),
      readyDescription: (ports) => `GET http://${LOOPBACK}:${ports.api}/version`,
    },
    runDir,
    runner,
  );
  const url = `http://${LOOPBACK}:${component.ports.api}`;
  return { component, url, client: new ToxiproxyClient(url) };
}
