import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import type { FaultSpec, ProxySpec } from "../../../harness/faults/l7-proxy/api-schema";
import { L7ProxyClient } from "../../../harness/faults/l7-proxy/client";
import { startL7ProxyProcess } from "../../../harness/faults/l7-proxy/process";
import { L7ProxyServer } from "../../../harness/faults/l7-proxy/server";
import { seededRandom } from "../../../harness/util/rng";
import {
  httpCall,
  loadEcho,
  startDroppingUpstream,
  startGrpcUpstream,
  startHttpUpstream,
  type EchoClient,
  type GrpcUpstream,
  type Msg,
  type UnaryOptions,
  type UnaryResult,
  unaryCall,
  type HttpUpstream,
} from "../../support/l7-upstreams";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const INJECTED = "injected by meshproof l7-proxy";

let proxies: L7ProxyServer;
let control: L7ProxyClient;
beforeAll(async () => {
  proxies = await L7ProxyServer.start();
  control = new L7ProxyClient(proxies.controlUrl);
});
afterAll(() => proxies.close());

const portOf = (listen: string) => Number(listen.split(":")[1]);

async function elapsedMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function removeAllFaults(proxy: string): Promise<void> {
  for (const fault of await control.faults(proxy)) await control.removeFault(proxy, fault.id);
}

interface HttpFixture {
  upstream: HttpUpstream;
  call: (target: string, options?: Parameters<typeof httpCall>[3]) => ReturnType<typeof httpCall>;
}

/** An HTTP upstream behind proxy `name`, called over one kept-alive connection; faults removed after each test. */
function httpFixture(name: string): HttpFixture {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let port = 0;
  const fixture: HttpFixture = {
    upstream: undefined as unknown as HttpUpstream,
    call: (target, options) => httpCall(port, agent, target, options),
  };
  beforeAll(async () => {
    fixture.upstream = await startHttpUpstream();
    const upstream = `127.0.0.1:${fixture.upstream.port}`;
    const info = await control.createProxy({ name, upstream, protocol: "http" });
    expect(info).toEqual({
      name,
      listen: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      upstream,
      protocol: "http",
      upstreamErrors: 0,
    });
    port = portOf(info.listen);
  });
  afterEach(() => removeAllFaults(name));
  afterAll(async () => {
    agent.destroy();
    await control.deleteProxy(name);
    await fixture.upstream.close();
  });
  return fixture;
}

describe("L7 proxy: HTTP/1.1 pass-through and errors", () => {
  const web = httpFixture("web");

  test("passes method, path, query, headers and body both ways; host names the upstream; keep-alive both sides", async () => {
    const body = "x".repeat(256 * 1024);
    const headers = {
      traceparent: TRACEPARENT,
      "x-request-id": "req-1",
      "x-custom": "a",
      "content-type": "text/plain",
    };
    const answer = await web.call("/orders/7?x=1&y=%20z", { method: "POST", headers, body });
    expect(answer).toMatchObject({ status: 201, body });
    expect(answer.headers["x-upstream"]).toBe("yes");
    const seen = web.upstream.seen.at(-1)!;
    expect(seen).toMatchObject({ method: "POST", url: "/orders/7?x=1&y=%20z", body });
    expect(seen.headers).toMatchObject({
      ...headers,
      host: `127.0.0.1:${web.upstream.port}`,
      "content-length": "262144",
    });

    const again = await web.call("/orders/8", { headers: { traceparent: TRACEPARENT } });
    expect(again.reusedSocket).toBe(true);
    expect(web.upstream.seen.at(-1)).toMatchObject({ url: "/orders/8", remotePort: seen.remotePort });
    expect(web.upstream.seen.at(-1)!.headers.traceparent).toBe(TRACEPARENT);
  });

  test("an error fault at rate 1 answers its status without reaching upstream; removing it restores pass-through", async () => {
    await control.addFault("web", {
      id: "e1",
      kind: "error",
      match: "GET /customer/:id",
      rate: 1,
      seed: 1,
      httpStatus: 418,
    });
    const before = web.upstream.seen.length;
    const failed = await web.call("/customer/42?verbose=1");
    expect(failed.status).toBe(418);
    expect(JSON.parse(failed.body)).toEqual({ error: INJECTED, fault: "e1" });
    expect(web.upstream.seen.length).toBe(before);
    expect((await web.call("/customer/42/orders")).status).toBe(201);
    expect((await web.call("/customer/42", { method: "POST" })).status).toBe(201);
    expect(await control.faults("web")).toEqual([expect.objectContaining({ id: "e1", matched: 1, injected: 1 })]);

    await control.removeFault("web", "e1");
    const restored = await web.call("/customer/42");
    expect(restored).toMatchObject({ status: 201, reusedSocket: true });
    expect(web.upstream.seen.length).toBe(before + 3);
  });
});

describe("L7 proxy: HTTP/1.1 rates and latency", () => {
  const web = httpFixture("web");

  test("rate 0.3 over 400 calls injects within the 99.9% binomial bound, call by call as its seed's mulberry32", async () => {
    const run = async (seed: number) => {
      await control.addFault("web", { id: "r", kind: "error", match: "* /api/*", rate: 0.3, seed, httpStatus: 500 });
      const failed: boolean[] = [];
      for (let i = 0; i < 400; i++) failed.push((await web.call(`/api/items/${i}`)).status === 500);
      const [view] = await control.faults("web");
      await control.removeFault("web", "r");
      return { failed, injected: failed.filter(Boolean).length, view };
    };
    const before = web.upstream.seen.length;
    const first = await run(42);
    expect(Math.abs(first.injected - 120)).toBeLessThanOrEqual(3.29 * Math.sqrt(400 * 0.3 * 0.7));
    expect(first.view).toMatchObject({ matched: 400, injected: first.injected });
    expect(web.upstream.seen.length - before).toBe(400 - first.injected);
    const random = seededRandom(42);
    expect(first.failed).toEqual(first.failed.map(() => random() < 0.3));
    expect((await run(42)).failed).toEqual(first.failed);
    expect((await run(43)).failed).not.toEqual(first.failed);
  });

  test("latency delays only matching calls by ms (+ jitter) and less than 150 ms more; a client that leaves is not forwarded", async () => {
    await control.addFault("web", { id: "slow", kind: "latency", match: "GET /slow/:id", rate: 1, seed: 1, ms: 200 });
    await control.addFault("web", {
      id: "jit",
      kind: "latency",
      match: "GET /jitter",
      rate: 1,
      seed: 5,
      ms: 60,
      jitterMs: 50,
    });
    for (let i = 0; i < 3; i++) {
      const took = await elapsedMs(() => web.call(`/slow/${i}`));
      expect(took).toBeGreaterThanOrEqual(200);
      expect(took).toBeLessThan(350);
    }
    expect(await elapsedMs(() => web.call("/fast/1"))).toBeLessThan(100);
    const random = seededRandom(5);
    for (let i = 0; i < 3; i++) {
      random();
      const expectedMs = 60 + (random() * 2 - 1) * 50;
      const took = await elapsedMs(() => web.call("/jitter"));
      expect(took).toBeGreaterThanOrEqual(expectedMs);
      expect(took).toBeLessThan(expectedMs + 150);
    }
    expect(await control.faults("web")).toMatchObject([
      { id: "slow", matched: 3, injected: 3 },
      { id: "jit", matched: 3, injected: 3 },
    ]);

    const before = web.upstream.seen.length;
    await expect(web.call("/slow/gone", { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await sleep(250);
    expect(web.upstream.seen.length).toBe(before);
  });

  test("an unreachable upstream answers 502, counted as the proxy's own failure", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const info = await control.createProxy({ name: "dead", upstream: `127.0.0.1:${deadPort}`, protocol: "http" });
    const own = new http.Agent();
    try {
      const answer = await httpCall(portOf(info.listen), own, "/anything");
      expect(answer.status).toBe(502);
      expect(answer.body).toMatch(/unreachable: ECONNREFUSED/);
      expect((await control.proxies()).find((p) => p.name === "dead")).toMatchObject({ upstreamErrors: 1 });
    } finally {
      own.destroy();
      await control.deleteProxy("dead");
    }
  });
});

interface GrpcFixture {
  upstream: GrpcUpstream;
  client: EchoClient;
  unary: (method: "Say" | "Other", text: string, options?: UnaryOptions) => Promise<UnaryResult>;
}

/** A grpc-js Echo upstream behind proxy `name` and a grpc-js client of the proxy; faults removed after each test. */
function grpcFixture(name: string): GrpcFixture {
  const fixture: GrpcFixture = {
    upstream: undefined as unknown as GrpcUpstream,
    client: undefined as unknown as EchoClient,
    unary: (method, text, options) => unaryCall(fixture.client, method, text, options),
  };
  beforeAll(async () => {
    fixture.upstream = await startGrpcUpstream();
    const upstream = `127.0.0.1:${fixture.upstream.port}`;
    const info = await control.createProxy({ name, upstream, protocol: "grpc" });
    fixture.client = new (loadEcho().Client)(info.listen, grpc.credentials.createInsecure()) as unknown as EchoClient;
  });
  afterEach(() => removeAllFaults(name));
  afterAll(async () => {
    fixture.client.close();
    await control.deleteProxy(name);
    await fixture.upstream.close();
  });
  return fixture;
}

describe("L7 proxy: gRPC over h2c pass-through", () => {
  const rpc = grpcFixture("rpc");

  test("a unary call passes with its metadata and deadline, and its response metadata, status and trailers", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("traceparent", TRACEPARENT);
    metadata.set("x-request-id", "rpc-1");
    metadata.set("x-custom", "c1");
    const ok = await rpc.unary("Say", "bob", { metadata, deadlineMs: 3_000 });
    expect(ok.error).toBeUndefined();
    expect(ok.response).toEqual({ text: "hi bob", n: 1 });
    expect(ok.metadata?.get("x-echo")).toEqual(["c1"]);
    expect(ok.status.metadata.get("x-trailer")).toEqual(["t1"]);
    expect(rpc.upstream.lastMetadata?.get("traceparent")).toEqual([TRACEPARENT]);
    expect(rpc.upstream.lastMetadata?.get("x-request-id")).toEqual(["rpc-1"]);
    expect(Number(rpc.upstream.lastDeadline)).toBeLessThanOrEqual(Date.now() + 3_000);

    const failed = await rpc.unary("Other", "fail");
    expect(failed.error).toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: "card declined: 100% ünïcode",
    });
    expect(failed.status.metadata.get("x-trailer")).toEqual(["declined"]);
  });

  test("a bidi call streams both ways, each answer before the next message", async () => {
    const chat = rpc.client.Chat!() as unknown as grpc.ClientDuplexStream<Msg, Msg>;
    const next = () => new Promise<Msg>((resolve) => chat.once("data", resolve));
    const answers: string[] = [];
    for (const text of ["a", "b", "c"]) {
      const answer = next();
      chat.write({ text, n: 0 });
      answers.push((await answer).text);
    }
    chat.end();
    const status = await new Promise<grpc.StatusObject>((resolve) => chat.on("status", resolve));
    expect([answers, status.code]).toEqual([["re a", "re b", "re c"], grpc.status.OK]);
  });

  test("a server-streaming call passes every message; a client's cancel cancels the upstream call", async () => {
    const received: number[] = [];
    const stream = rpc.client.Count!({ text: "", n: 5 });
    stream.on("data", (message: Msg) => received.push(message.n));
    await new Promise((resolve, reject) => stream.on("end", resolve).on("error", reject));
    expect(received).toEqual([0, 1, 2, 3, 4]);

    const endless = rpc.client.Count!({ text: "", n: 0 });
    endless.on("error", () => undefined);
    await new Promise<void>((resolve) => {
      let count = 0;
      endless.on("data", () => ++count === 3 && resolve());
    });
    endless.cancel();
    await Promise.race([
      rpc.upstream.countCancelled,
      sleep(2_000).then(() => Promise.reject(new Error("not cancelled"))),
    ]);
  });

  test("an upstream connection lost mid-stream ends the call UNAVAILABLE, as a direct client sees it", async () => {
    const dropping = await startDroppingUpstream();
    const info = await control.createProxy({ name: "drop", upstream: `127.0.0.1:${dropping.port}`, protocol: "grpc" });
    const outcome = async (target: string) => {
      const direct = new (loadEcho().Client)(target, grpc.credentials.createInsecure()) as unknown as EchoClient;
      const stream = direct.Count!({ text: "", n: 0 });
      let received = 0;
      stream.on("data", () => received++).on("error", () => undefined);
      const status = await new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
      direct.close();
      return { code: status.code, received };
    };
    try {
      const direct = await outcome(`127.0.0.1:${dropping.port}`);
      expect(direct).toEqual({ code: grpc.status.UNAVAILABLE, received: 2 });
      expect(await outcome(info.listen)).toEqual(direct);
      expect((await control.proxies()).find((p) => p.name === "drop")).toMatchObject({ upstreamErrors: 1 });
    } finally {
      await control.deleteProxy("drop");
      await dropping.close();
    }
  });

  test("a stopped upstream answers UNAVAILABLE as the proxy's own failure; a restarted one is reached again", async () => {
    const port = rpc.upstream.port;
    await rpc.upstream.close();
    const down = await rpc.unary("Say", "x");
    expect(down.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(down.error?.details).toMatch(/^meshproof l7-proxy: upstream 127\.0\.0\.1:\d+ failed: ECONNREFUSED$/);
    expect((await control.proxies()).find((p) => p.name === "rpc")).toMatchObject({ upstreamErrors: 1 });
    rpc.upstream = await startGrpcUpstream(port);
    expect((await rpc.unary("Say", "back")).response).toEqual({ text: "hi back", n: 1 });
  });
});

describe("L7 proxy: gRPC over h2c faults", () => {
  const rpc = grpcFixture("rpc");

  test("an error fault answers its code and message without reaching upstream, matched by Method or pkg.Service/Method", async () => {
    await control.addFault("rpc", {
      id: "down",
      kind: "error",
      match: "Say",
      rate: 1,
      seed: 7,
      grpcCode: "UNAVAILABLE",
    });
    const before = { ...rpc.upstream.calls };
    const failed = await rpc.unary("Say", "x");
    expect(failed.error).toMatchObject({ code: grpc.status.UNAVAILABLE, details: INJECTED });
    expect((await rpc.unary("Other", "x")).error).toBeUndefined();
    expect(rpc.upstream.calls).toEqual({ ...before, Other: before.Other + 1 });
    await control.removeFault("rpc", "down");

    const exact = { id: "exact", kind: "error", match: "l7test.v1.Echo/Other", rate: 1, seed: 7 } as const;
    await control.addFault("rpc", { ...exact, grpcCode: "RESOURCE_EXHAUSTED" });
    expect((await rpc.unary("Other", "x")).error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await rpc.unary("Say", "x")).error).toBeUndefined();
    expect(await control.faults("rpc")).toEqual([expect.objectContaining({ id: "exact", matched: 1, injected: 1 })]);
  });

  test("latency delays one method only; a deadline shorter than it gives DEADLINE_EXCEEDED and upstream no call", async () => {
    await control.addFault("rpc", { id: "slow", kind: "latency", match: "Say", rate: 1, seed: 1, ms: 200 });
    for (let i = 0; i < 2; i++) {
      const took = await elapsedMs(() => rpc.unary("Say", "x"));
      expect(took).toBeGreaterThanOrEqual(200);
      expect(took).toBeLessThan(350);
    }
    expect(await elapsedMs(() => rpc.unary("Other", "x"))).toBeLessThan(100);
    await control.removeFault("rpc", "slow");

    await control.addFault("rpc", {
      id: "late",
      kind: "latency",
      match: "/l7test.v1.Echo/Say",
      rate: 1,
      seed: 1,
      ms: 400,
    });
    const before = rpc.upstream.calls.Say;
    expect((await rpc.unary("Say", "late", { deadlineMs: 100 })).error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await sleep(400);
    expect(rpc.upstream.calls.Say).toBe(before);
  });
});

describe("L7 proxy: control API", () => {
  test("a bad body answers 400 naming the key; an unknown proxy 404; a taken name 409; deletes are idempotent", async () => {
    await control.createProxy({ name: "ctl", upstream: "127.0.0.1:9", protocol: "http" });
    const fault = { id: "a", kind: "error", rate: 0.5, seed: 1 } as const;
    const rejects = (promise: Promise<unknown>, status: number, message: RegExp) =>
      expect(promise).rejects.toMatchObject({ status, message: expect.stringMatching(message) });
    await rejects(
      control.addFault("ctl", { ...fault, rate: 2 }),
      400,
      /^l7-proxy POST http:\/\/127\.0\.0\.1:\d+\/proxies\/ctl\/faults answered 400: .*rate: /,
    );
    await rejects(control.addFault("ctl", { ...fault, seed: undefined } as unknown as FaultSpec), 400, /seed: /);
    await rejects(
      control.addFault("ctl", { ...fault, grpcCode: "UNAVAILABLE" }),
      400,
      /grpcCode: not allowed on a http proxy/,
    );
    await rejects(
      control.addFault("ctl", { ...fault, match: "GET customer" }),
      400,
      /match: "GET customer" is not "METHOD \/path"/,
    );
    await rejects(control.addFault("ctl", { ...fault, colour: 1 } as FaultSpec), 400, /colour/);
    await rejects(control.addFault("ctl", { ...fault, kind: "drop" } as unknown as FaultSpec), 400, /kind/);
    await rejects(
      control.createProxy({ name: "x", upstream: "127.0.0.1:9", protocol: "http", listen: "0.0.0.0:0" }),
      400,
      /listen: /,
    );
    await rejects(
      control.createProxy({ name: "x", upstream: "nohost", protocol: "http" } as ProxySpec),
      400,
      /upstream: /,
    );
    await rejects(
      control.createProxy({ name: "ctl", upstream: "127.0.0.1:9", protocol: "grpc" }),
      409,
      /already exists/,
    );
    await control.addFault("ctl", fault);
    await rejects(control.addFault("ctl", fault), 409, /fault "a" already exists/);
    const taken = { name: "y", upstream: "127.0.0.1:9", listen: control.url.slice("http://".length) } as const;
    await rejects(control.createProxy({ ...taken, protocol: "http" }), 409, /cannot listen: EADDRINUSE/);
    expect(await (await fetch(`${control.url}/proxies/ctl`)).json()).toMatchObject({ name: "ctl", protocol: "http" });
    await rejects(control.addFault("nope", fault), 404, /no proxy "nope"/);
    await rejects(control.faults("nope"), 404, /no proxy "nope"/);
    const raw = await fetch(`${control.url}/proxies/ctl/faults`, { method: "POST", body: "{" });
    expect([raw.status, await raw.text()]).toEqual([400, expect.stringMatching(/invalid JSON/)]);
    expect((await fetch(`${control.url}/nothing`)).status).toBe(404);

    await control.removeFault("ctl", "a");
    await control.removeFault("ctl", "a");
    await control.deleteProxy("ctl");
    await control.deleteProxy("ctl");
    await control.removeFault("ctl", "a");
    expect((await control.proxies()).map((p) => p.name)).not.toContain("ctl");
    const gone = await L7ProxyServer.start();
    await gone.close();
    await expect(new L7ProxyClient(gone.controlUrl).proxies()).rejects.toThrow(/got no answer: ECONNREFUSED/);
  });
});

describe("L7 proxy: the process", () => {
  let logDir = "";
  beforeAll(() => (logDir = fs.mkdtempSync(path.join(os.tmpdir(), "l7-proxy-"))));
  afterAll(() => fs.rmSync(logDir, { recursive: true, force: true }));

  test("main.js prints its control URL, proxies, and exits 0 on SIGTERM", async () => {
    const logFile = path.join(logDir, "ok.log");
    const started = await startL7ProxyProcess({ logFile });
    const upstream = await startHttpUpstream();
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect(fs.readFileSync(logFile, "utf8")).toBe(`{"control":"${started.url}"}\n`);
      const info = await started.client.createProxy({
        name: "p",
        upstream: `127.0.0.1:${upstream.port}`,
        protocol: "http",
      });
      expect((await httpCall(portOf(info.listen), agent, "/through")).status).toBe(201);
    } finally {
      await started.stop();
      agent.destroy();
      await upstream.close();
    }
    expect([started.process.exitCode, started.process.exitSignal]).toEqual([0, null]);
  });

  test("a start that fails rejects with the process's last log lines", async () => {
    await expect(startL7ProxyProcess({ logFile: path.join(logDir, "bad.log"), control: "0.0.0.0:0" })).rejects.toThrow(
      /l7-proxy exited with code 2 before it printed its control URL; last log lines:\nl7-proxy: --control must be 127\.0\.0\.1:PORT/,
    );
  });
});
