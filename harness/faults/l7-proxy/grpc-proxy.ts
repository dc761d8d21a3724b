import http2 from "node:http2";
import { GRPC_CODES, DEFAULT_GRPC_CODE } from "./api-schema";
import {
  closeServer,
  INJECTED_MESSAGE,
  listenLoopback,
  ProxyState,
  type ListenerSpec,
  type ProxyListener,
  waitUnlessAborted,
} from "./listener";

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const UNAVAILABLE = GRPC_CODES.indexOf("UNAVAILABLE");
// A reset the upstream itself sent (RST_STREAM, or GOAWAY with an error code) is passed on with its code, as is.
const PEER_RESETS = new Set(["ERR_HTTP2_STREAM_ERROR", "ERR_HTTP2_SESSION_ERROR"]);

/** One HTTP/2 session to the upstream, shared by every call and replaced once it closes or goes away. */
class UpstreamSession {
  private session: http2.ClientHttp2Session | undefined;

  constructor(private readonly authority: string) {}

  get(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(`http://${this.authority}`);
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    // A failed session fails its streams, and each call answers for its own; the next call reconnects.
    session.on("error", forget);
    session.once("goaway", forget);
    session.once("close", forget);
    this.session = session;
    return session;
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}

/**
 * A gRPC proxy over h2c in front of spec.upstream: every stream is decided by the proxy's faults, then answered
 * with an injected trailers-only status, or forwarded (after any injected latency) on the shared upstream session
 * with headers, DATA, response headers, trailers and resets passed through both ways.
 */
export async function startGrpcProxy(spec: ListenerSpec): Promise<ProxyListener> {
  const state = new ProxyState(spec);
  const upstream = new UpstreamSession(spec.upstream);
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => void handleStream(stream, headers));

  async function handleStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    // A reset by the client surfaces as 'error'; its 'close' does the cleanup.
    stream.on("error", () => undefined);
    const decision = state.faults.decide({ method: String(headers[":method"]), path: String(headers[":path"]) });
    const gone = new AbortController();
    stream.once("close", () => gone.abort());
    if (!(await waitUnlessAborted(decision.delayMs, gone.signal))) return;
    if (decision.error) {
      const code = GRPC_CODES.indexOf(decision.error.grpcCode ?? DEFAULT_GRPC_CODE);
      return answerStatus(stream, code, INJECTED_MESSAGE);
    }
    forward(stream, headers, state, upstream);
  }

  state.listen = await listenLoopback(server, spec.listen);
  return {
    faults: state.faults,
    info: () => state.info(),
    async close() {
      const closed = closeServer(server);
      for (const session of sessions) session.destroy();
      upstream.close();
      await closed;
    },
  };
}

function forward(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  state: ProxyState,
  upstream: UpstreamSession,
): void {
  let up: http2.ClientHttp2Stream;
  try {
    up = upstream.get().request({ ...headers, ":authority": state.spec.upstream });
  } catch (error) {
    state.upstreamErrors++;
    return answerStatus(stream, UNAVAILABLE, `meshproof l7-proxy: upstream ${state.spec.upstream} failed: ${error}`);
  }
  new ForwardedCall(stream, up, state).start();
}

/**
 * One call relayed to the upstream: response headers, DATA and trailers back; a reset by either side reset on the
 * other. An upstream lost without a status (connection closed, session error) ends the call with UNAVAILABLE, as
 * a client connected directly would see it, counted as the proxy's own failure.
 */
class ForwardedCall {
  private trailers: http2.IncomingHttpHeaders | undefined;
  private statusSeen = false;
  private failure: string | undefined;
  /** What the failure was caused by (ECONNREFUSED for a stream its session never connected). */
  private cause: string | undefined;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly up: http2.ClientHttp2Stream,
    private readonly state: ProxyState,
  ) {}

  start(): void {
    const { stream, up } = this;
    up.on("error", (error: NodeJS.ErrnoException) => {
      this.failure = error.code ?? error.message;
      this.cause = (error.cause as NodeJS.ErrnoException | undefined)?.code;
    });
    up.once("response", (answer, flags) => this.relayResponse(answer, flags));
    up.once("trailers", (received) => {
      this.trailers = received;
      this.statusSeen = true;
    });
    up.once("close", () => this.onUpstreamClosed());
    stream.once("wantTrailers", () => this.onWantTrailers());
    stream.once("close", () => {
      // The client cancelled (or its connection died) before the upstream finished: cancel upstream too.
      if (!up.closed && !up.readableEnded) up.close(stream.rstCode || NGHTTP2_CANCEL);
    });
    stream.pipe(up);
  }

  private relayResponse(answer: http2.IncomingHttpHeaders, flags: number): void {
    if (this.stream.closed || this.stream.destroyed) return;
    if (flags & NGHTTP2_FLAG_END_STREAM) {
      this.statusSeen = true;
      return this.stream.respond(answer, { endStream: true });
    }
    this.stream.respond(answer, { waitForTrailers: true });
    this.up.pipe(this.stream);
  }

  private onUpstreamClosed(): void {
    const { stream, up } = this;
    if (this.statusSeen || stream.closed || stream.destroyed) return;
    // A RST_STREAM (or GOAWAY with an error code) the upstream sent: reset the client's stream with that code.
    if (this.failure !== undefined && PEER_RESETS.has(this.failure)) return stream.close(up.rstCode);
    if (!stream.headersSent) return answerStatus(stream, UNAVAILABLE, this.lost());
    up.unpipe(stream);
    if (!stream.writableEnded) stream.end();
  }

  private onWantTrailers(): void {
    if (this.trailers) return this.stream.sendTrailers({ ...this.trailers });
    // The upstream's DATA ended without trailers; whether it was lost shows once its stream has closed.
    const finish = () => {
      if (this.stream.closed || this.stream.destroyed) return;
      if (this.failure === undefined && this.up.rstCode === NGHTTP2_NO_ERROR) return this.stream.close();
      this.stream.sendTrailers({ "grpc-status": String(UNAVAILABLE), "grpc-message": encodeMessage(this.lost()) });
    };
    if (this.up.closed) finish();
    else this.up.once("close", finish);
  }

  private lost(): string {
    this.state.upstreamErrors++;
    const why = this.cause ?? this.failure ?? `connection lost (stream code ${this.up.rstCode})`;
    return `meshproof l7-proxy: upstream ${this.state.spec.upstream} failed: ${why}`;
  }
}

/** A trailers-only gRPC answer; what the client still sends is read and dropped. */
function answerStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.closed || stream.destroyed) return;
  stream.respond(
    {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(code),
      "grpc-message": encodeMessage(message),
    },
    { endStream: true },
  );
  stream.resume();
}

/** grpc-message as the gRPC spec encodes it: percent-encoded outside printable ASCII, and "%" itself. */
function encodeMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
