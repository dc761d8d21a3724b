import http from "node:http";
import { ConflictError, ProxySpecSchema, type ProxyInfo } from "./api-schema";
import { handleControl } from "./control-api";
import { startGrpcProxy } from "./grpc-proxy";
import { startHttpProxy } from "./http-proxy";
import { closeServer, listenLoopback, type ProxyListener } from "./listener";

/**
 * One process's L7 fault proxies and the control API that manages them, every listener on 127.0.0.1. The control
 * API is described in README.md; main.ts runs this as a process.
 */
export class L7ProxyServer {
  private readonly proxies = new Map<string, ProxyListener>();
  private readonly starting = new Set<string>();

  private constructor(
    private readonly control: http.Server,
    /** http://127.0.0.1:PORT of the control API. */
    readonly controlUrl: string,
  ) {}

  /** Starts the control API on `control` ("127.0.0.1:PORT", 0 for the kernel's pick). */
  static async start(control = "127.0.0.1:0"): Promise<L7ProxyServer> {
    const server = http.createServer();
    const address = await listenLoopback(server, control);
    const proxyServer = new L7ProxyServer(server, `http://${address}`);
    server.on("request", (req, res) => void handleControl(proxyServer, req, res));
    return proxyServer;
  }

  /** Validates a POST /proxies body and starts the proxy; ZodError, ConflictError, or the listen error. */
  async createProxy(body: unknown): Promise<ProxyInfo> {
    const spec = ProxySpecSchema.parse(body);
    if (this.proxies.has(spec.name) || this.starting.has(spec.name))
      throw new ConflictError(`proxy "${spec.name}" already exists`);
    this.starting.add(spec.name);
    try {
      const proxy = spec.protocol === "grpc" ? await startGrpcProxy(spec) : await startHttpProxy(spec);
      this.proxies.set(spec.name, proxy);
      return proxy.info();
    } finally {
      this.starting.delete(spec.name);
    }
  }

  /** Stops and forgets a proxy; false when there was none by that name. */
  async deleteProxy(name: string): Promise<boolean> {
    const proxy = this.proxies.get(name);
    if (!proxy) return false;
    this.proxies.delete(name);
    await proxy.close();
    return true;
  }

  /** The running proxy of that name, if any. */
  proxy(name: string): ProxyListener | undefined {
    return this.proxies.get(name);
  }

  /** Every proxy, in the order created. */
  list(): ProxyInfo[] {
    return [...this.proxies.values()].map((p) => p.info());
  }

  /** Stops every proxy and the control API. */
  async close(): Promise<void> {
    await Promise.all([...this.proxies.keys()].map((name) => this.deleteProxy(name)));
    const closed = closeServer(this.control);
    this.control.closeAllConnections();
    await closed;
  }
}
