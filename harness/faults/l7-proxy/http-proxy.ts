import http from "node:http";
import { DEFAULT_HTTP_STATUS } from "./api-schema";
import {
  closeServer,
  INJECTED_MESSAGE,
  listenLoopback,
  ProxyState,
  splitHostPort,
  type ListenerSpec,
  type ProxyListener,
  waitUnlessAborted,
} from "./listener";

// Hop-by-hop: they describe one connection, so each side keeps its own (keep-alive both ways).
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "upgrade"];

/**
 * An HTTP/1.1 proxy in front of spec.upstream: every request is decided by the proxy's faults, then answered with
 * an injected error, or forwarded (after any injected latency) over a keep-alive agent with its body streamed both
 * ways and `host` set to the upstream.
 */
export async function startHttpProxy(spec: ListenerSpec): Promise<ProxyListener> {
  const state = new ProxyState(spec);
  // A socket timeout makes the agent honour the upstream's `Keep-Alive: timeout=N` hint and drop an idle socket
  // before the upstream closes it: a request sent on a socket the upstream is closing would come back a 502.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 60_000 });
  const server = http.createServer((req, res) => void handle(req, res));

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const decision = state.faults.decide({ method: req.method ?? "GET", path: (req.url ?? "/").split("?")[0]! });
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    if (!(await waitUnlessAborted(decision.delayMs, gone.signal))) return;
    if (decision.error) {
      const status = decision.error.httpStatus ?? DEFAULT_HTTP_STATUS;
      return sendJson(res, status, { error: INJECTED_MESSAGE, fault: decision.error.id });
    }
    forward(req, res, state, agent);
  }

  state.listen = await listenLoopback(server, spec.listen);
  return {
    faults: state.faults,
    info: () => state.info(),
    async close() {
      const closed = closeServer(server);
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

function forward(req: http.IncomingMessage, res: http.ServerResponse, state: ProxyState, agent: http.Agent): void {
  const { host, port } = splitHostPort(state.spec.upstream);
  const headers = { ...withoutHopByHop(req.headers), host: state.spec.upstream };
  const outgoing = http.request({ host, port, method: req.method, path: req.url, headers, agent });
  let clientGone = false;
  res.once("close", () => {
    if (res.writableFinished) return;
    clientGone = true;
    outgoing.destroy();
  });
  outgoing.once("response", (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
    answer.on("error", () => res.destroy());
    answer.pipe(res);
  });
  outgoing.on("error", (error: NodeJS.ErrnoException) => {
    if (clientGone || res.writableEnded) return;
    if (res.headersSent) return void res.destroy();
    state.upstreamErrors++;
    sendJson(res, 502, { error: `upstream ${state.spec.upstream} unreachable: ${error.code ?? error.message}` });
  });
  req.pipe(outgoing);
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((token) => token.trim().toLowerCase());
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.includes(key) && !named.includes(key)) out[key] = value;
  }
  return out;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
