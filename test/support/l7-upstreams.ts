import fs from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** What the HTTP upstream saw of one request. */
export interface HttpSeen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The proxy's local port towards the upstream: the same one for calls on one kept-alive connection. */
  remotePort: number;
}

/** A running HTTP upstream and what it saw. */
export interface HttpUpstream {
  port: number;
  seen: HttpSeen[];
  close(): Promise<void>;
}

/** A loopback HTTP/1.1 upstream recording every request and answering 201 with its body echoed and `x-upstream`. */
export async function startHttpUpstream(): Promise<HttpUpstream> {
  const seen: HttpSeen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, remotePort: req.socket.remotePort! });
      res.writeHead(201, "Made", { "x-upstream": "yes", "content-type": "text/plain" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a client got back from one HTTP call. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the call went out on a kept-alive connection of the agent. */
  reusedSocket: boolean;
}

/** One HTTP/1.1 call through `agent` to 127.0.0.1:port. */
export function httpCall(
  port: number,
  agent: http.Agent,
  target: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; signal?: AbortSignal } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const { method = "GET", headers = {}, body, signal } = options;
    const req = http.request({ host: "127.0.0.1", port, path: target, method, headers, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          reusedSocket: req.reusedSocket,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const PROTO = `syntax = "proto3";
package l7test.v1;
service Echo {
  rpc Say (Msg) returns (Msg);
  rpc Other (Msg) returns (Msg);
  rpc Count (Msg) returns (stream Msg);
  rpc Chat (stream Msg) returns (stream Msg);
}
message Msg { string text = 1; int32 n = 2; }
`;

/** The Echo service's client constructor and service definition (proto written to a temp dir). */
export function loadEcho(): { Client: grpc.ServiceClientConstructor; service: grpc.ServiceDefinition } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "l7-proto-"));
  const file = path.join(dir, "echo.proto");
  fs.writeFileSync(file, PROTO);
  const definition = protoLoader.loadSync(file, { keepCase: true, defaults: true });
  fs.rmSync(dir, { recursive: true, force: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    l7test: { v1: { Echo: grpc.ServiceClientConstructor } };
  };
  return { Client: pkg.l7test.v1.Echo, service: pkg.l7test.v1.Echo.service };
}

/** The Echo service's one message. */
export interface Msg {
  text: string;
  n: number;
}
/** What one unary call ended with. */
export interface UnaryResult {
  error?: grpc.ServiceError;
  response?: Msg;
  metadata?: grpc.Metadata;
  status: grpc.StatusObject;
}
/** A client of the Echo service (its methods by name). */
export type EchoClient = grpc.Client &
  Record<string, (...args: unknown[]) => grpc.ClientUnaryCall & grpc.ClientReadableStream<Msg>>;

/** Metadata and deadline of one unary call. */
export interface UnaryOptions {
  metadata?: grpc.Metadata;
  deadlineMs?: number;
}

/** One unary call: its error or response, response metadata and final status. */
export function unaryCall(client: EchoClient, method: "Say" | "Other", text: string, options: UnaryOptions = {}) {
  return new Promise<UnaryResult>((resolve) => {
    const result: Partial<UnaryResult> = {};
    const deadline = Date.now() + (options.deadlineMs ?? 5_000);
    const done = (error: grpc.ServiceError | null, response?: Msg) =>
      Object.assign(result, { error: error ?? undefined, response });
    const call = client[method]!({ text, n: 1 }, options.metadata ?? new grpc.Metadata(), { deadline }, done);
    call.on("metadata", (metadata: grpc.Metadata) => (result.metadata = metadata));
    call.on("status", (status: grpc.StatusObject) => resolve({ ...result, status }));
  });
}

/** What the gRPC upstream saw: calls per method, the last call's metadata and deadline, cancelled streams. */
export interface GrpcUpstream {
  port: number;
  calls: Record<"Say" | "Other" | "Count" | "Chat", number>;
  lastMetadata?: grpc.Metadata;
  lastDeadline?: grpc.Deadline;
  /** Resolves when a Count stream is cancelled by its client. */
  countCancelled: Promise<void>;
  close(): Promise<void>;
}

/**
 * A grpc-js Echo upstream. Say echoes, sends `x-echo` response metadata and an `x-trailer` trailer. Other fails with
 * FAILED_PRECONDITION, a message and a trailer when text is "fail", else echoes. Count streams n messages 5 ms apart
 * (forever when n is 0, until cancelled). Chat answers each message as it comes ("re <text>") and ends when the
 * client does.
 */
export async function startGrpcUpstream(port = 0): Promise<GrpcUpstream> {
  const { service } = loadEcho();
  let cancelled!: () => void;
  const upstream: GrpcUpstream = {
    port: 0,
    calls: { Say: 0, Other: 0, Count: 0, Chat: 0 },
    countCancelled: new Promise((resolve) => (cancelled = resolve)),
    close: async () => server.forceShutdown(),
  };
  const server = new grpc.Server();
  server.addService(service, {
    Say(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      upstream.calls.Say++;
      upstream.lastMetadata = call.metadata;
      upstream.lastDeadline = call.getDeadline();
      const echo = new grpc.Metadata();
      echo.set("x-echo", String(call.metadata.get("x-custom")[0] ?? ""));
      call.sendMetadata(echo);
      const trailers = new grpc.Metadata();
      trailers.set("x-trailer", "t1");
      callback(null, { text: `hi ${call.request.text}`, n: call.request.n }, trailers);
    },
    Other(call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) {
      upstream.calls.Other++;
      if (call.request.text !== "fail") return callback(null, { text: "other", n: 0 });
      const metadata = new grpc.Metadata();
      metadata.set("x-trailer", "declined");
      callback({ code: grpc.status.FAILED_PRECONDITION, details: "card declined: 100% ünïcode", metadata });
    },
    Count(call: grpc.ServerWritableStream<Msg, Msg>) {
      upstream.calls.Count++;
      let sent = 0;
      const timer = setInterval(() => {
        if (call.request.n > 0 && sent === call.request.n) {
          clearInterval(timer);
          return call.end();
        }
        call.write({ text: "tick", n: sent++ });
      }, 5);
      call.on("cancelled", () => {
        clearInterval(timer);
        cancelled();
      });
    },
    Chat(call: grpc.ServerDuplexStream<Msg, Msg>) {
      upstream.calls.Chat++;
      call.on("data", (message: Msg) => call.write({ text: `re ${message.text}`, n: message.n }));
      call.on("end", () => call.end());
    },
  });
  upstream.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return upstream;
}

/** A gRPC message frame holding Msg{n} (n < 128): the 5-byte prefix, then field 2 as a one-byte varint. */
function msgFrame(n: number): Buffer {
  return Buffer.from([0, 0, 0, 0, 2, 0x10, n]);
}

/**
 * A raw h2c upstream that answers every stream with response headers and two Msg frames, then cuts the TCP
 * connection without RST_STREAM or trailers (an upstream that crashed mid-call).
 */
export async function startDroppingUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => undefined);
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    stream.write(msgFrame(0));
    stream.write(msgFrame(1));
    setTimeout(() => stream.session?.socket.destroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
