import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { JaegerSpan, JaegerTrace } from "../../../harness/backends/trace-store";
import { discoverMesh, renderConfig, writeDraft, type Draft, type MeshAnswers } from "../../../harness/config/discover";
import { ConfigError } from "../../../harness/errors";

// What `npm run init` read from HotROD launched on a native stack (see test/fixtures/discover/README.md).
const HOTROD: MeshAnswers = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../../test/fixtures/discover/hotrod-answers.json"), "utf8"),
);
const READ_AT = new Date("2026-12-06T21:00:00Z");

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-discover-"));
}

describe("init's discovery on HotROD's recorded answers", () => {
  const draft = discoverMesh(HOTROD, { readAt: READ_AT });
  const { config } = draft;

  test("the edge is the service owning the root spans, at the address they were served on", () => {
    expect(Object.keys(config.services)).toEqual(["frontend", "customer", "driver", "route"]);
    expect(config.services.frontend).toMatchObject({ role: "edge", protocol: "http", url: "http://127.0.0.1:31908" });
    expect(config.services.driver!.protocol).toBe("grpc");
    // Declared from the spans' templates, so hygiene.route-labels compares the metrics with the traces.
    expect(config.services.frontend!.operations).toEqual(["GET /config", "GET /dispatch", "GET /metrics"]);
    expect(config.services.driver!.operations).toEqual(["driver.DriverService/FindNearest"]);
    expect(config).toMatchObject({
      name: "hotrod",
      traces: { jaegerQueryUrl: "http://127.0.0.1:17619" },
      prometheus: { url: "http://127.0.0.1:28886", job: "mesh" },
    });
  });

  test("only a service with a Prometheus target gets a metricsUrl, and the comments say why the others do not", () => {
    expect(config.services.frontend!.metricsUrl).toBe("http://127.0.0.1:31908/metrics");
    for (const name of ["customer", "driver", "route"]) {
      expect(config.services[name]!.metricsUrl).toBeUndefined();
      expect(draft.notes.aboveOf(["services", name]).join()).toMatch(/no Prometheus target names it: no metricsUrl/);
    }
  });

  test("GET /dispatch with the request its root spans logged and its hops in call order, fan-out and retries", () => {
    expect(Object.keys(config.routes)).toEqual(["GET /dispatch"]);
    const route = config.routes["GET /dispatch"]!;
    expect(route.request).toEqual({ method: "GET", path: "/dispatch?customer=123" });
    expect(route.hops).toEqual([
      { from: "frontend", to: "customer", protocol: "http", method: "GET /customer" },
      { from: "customer", to: "mysql", protocol: "sql", reportedBy: "mysql" },
      { from: "frontend", to: "driver", protocol: "grpc", method: "FindNearest" },
      {
        from: "driver",
        to: "redis",
        protocol: "redis",
        reportedBy: "redis-manual",
        count: { min: 11, max: 14 },
        retried: true,
      },
      { from: "frontend", to: "route", protocol: "http", method: "GET /route", count: { min: 10, max: 10 } },
    ]);
    expect(draft.notes.aboveOf(["routes"]).join()).toMatch(/left out: GET \/config .*GET \/metrics/);
  });

  test("a link per caller and callee at the address the caller's spans called, none for in-process tracers", () => {
    expect(Object.keys(config.links!)).toEqual(["frontend-customer", "frontend-driver", "frontend-route"]);
    expect(config.links!["frontend-driver"]).toMatchObject({ from: "frontend", to: "driver", protocol: "grpc" });
    expect(config.links!["frontend-driver"]!.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test("no built-in contract fits: one is written with HotROD's counter, histogram and labels, shared by all", () => {
    expect(Object.keys(draft.contracts)).toEqual(["contract.json"]);
    for (const s of Object.values(config.services)) expect(s.contract).toBe("contract.json");
    const contract = draft.contracts["contract.json"]!;
    expect(contract.httpServerRequests).toEqual({
      name: "hotrod_requests_total",
      type: "counter",
      labelKeys: ["endpoint", "error"],
      status: "error",
    });
    expect(contract.httpServerDuration).toMatchObject({ name: "hotrod_request_latency", type: "histogram" });
    expect(contract.labels).toEqual(
      expect.objectContaining({ httpRoute: "endpoint", httpStatusCode: "error", grpcCode: "error" }),
    );
    expect(contract.labels.httpMethod).toBeUndefined();
    expect(contract.runtime).toBe("go");
    // New HTTP conventions, old RPC ones: what otelhttp and otelgrpc 0.63 emit.
    expect(contract.spans).toMatchObject({
      httpMethod: "http.request.method",
      httpStatusCode: "http.response.status_code",
      rpcSystem: "rpc.system",
      rpcService: "rpc.service",
      grpcStatusCode: "rpc.grpc.status_code",
    });
    expect(draft.notes.aboveOf(["services", "frontend", "contract"]).join("\n")).toMatch(
      /passed over hotrod_http_requests_total/,
    );
  });

  test("every guessed value carries a guess comment; what cannot be discovered is a fill-in", () => {
    const guessed = [
      ["name"],
      ["services", "frontend", "role"],
      ["services", "frontend", "url"],
      ["services", "frontend", "metricsUrl"],
      ["services", "driver", "protocol"],
      ["services", "route", "contract"],
      ["links", "frontend-route"],
      ["routes", "GET /dispatch", "request"],
      ...config.routes["GET /dispatch"]!.hops.map((_, i) => ["routes", "GET /dispatch", "hops", i]),
    ];
    for (const key of guessed)
      expect({ key, notes: draft.notes.aboveOf(key) }).toEqual({
        key,
        notes: expect.arrayContaining([expect.stringMatching(/^guess: /)]),
      });
    expect(draft.notes.tailOf(["services", "frontend"]).join()).toMatch(/fill in: pid .*fill in: errors: /);
    expect(draft.notes.tailOf(["links", "frontend-driver"])).toEqual([expect.stringMatching(/^fill in: timeoutMs/)]);
  });

  test("--edge picks the service its port belongs to; a URL no service answers on falls back to the root spans", () => {
    const given = discoverMesh(HOTROD, { readAt: READ_AT, edgeUrl: "http://127.0.0.1:31908" });
    expect(given.notes.aboveOf(["services", "frontend", "role"])).toEqual([
      "guess: --edge http://127.0.0.1:31908: its root spans were reached at port 31908",
    ]);
    const stray = discoverMesh(HOTROD, { readAt: READ_AT, edgeUrl: "http://127.0.0.1:1" });
    expect(stray.config.services.frontend).toMatchObject({ role: "edge", url: "http://127.0.0.1:1" });
    expect(stray.notes.aboveOf(["services", "frontend", "role"]).join()).toMatch(/--edge matched no service/);
  });

  test("the written config loads with the project's loader; files that exist are kept unless forced", () => {
    const dir = tempDir();
    try {
      const written = writeDraft(draft, dir, false);
      // Jest's module system cannot load a .ts config: the project's loader runs in a Node of its own.
      const hops = execFileSync(process.execPath, [
        "-e",
        `const { loadMeshConfig } = require(${JSON.stringify(require.resolve("../../../harness/config/mesh-config"))});
         process.stdout.write(String(loadMeshConfig(${JSON.stringify(written.configFile)}).routes["GET /dispatch"].hops.length));`,
      ]);
      expect(hops.toString()).toBe("5");
      const text = fs.readFileSync(written.configFile, "utf8");
      expect(text).toMatch(/^import \{ defineConfig \} from "\.\.?\/.*harness\/config\/mesh-config";/);
      expect(text).toContain("// guess: 10 calls per request in each of 2 sampled traces");
      expect(() => writeDraft(draft, dir, false)).toThrow(/meshproof\.config\.ts exists: pass --force/);
      expect(() => writeDraft(draft, dir, true)).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with no trace that crosses services there is nothing to discover, and the error says what to do", () => {
    const lonely = {
      ...HOTROD,
      jaeger: { ...HOTROD.jaeger, traces: HOTROD.jaeger.traces.filter((t) => t.spans.length === 1) },
    };
    expect(() => discoverMesh(lonely, { readAt: READ_AT })).toThrow(ConfigError);
    expect(() => discoverMesh(lonely, { readAt: READ_AT })).toThrow(/send a few requests through the mesh's edge/);
  });
});

/** A tiny OpenTelemetry-instrumented mesh: gateway (edge) -> orders -> redis at 127.0.0.1:6379. */
function otelMesh(semconv: "new" | "old"): MeshAnswers {
  const http = (method: string, status: number, extra: Record<string, string | number>) =>
    semconv === "new"
      ? { "http.request.method": method, "http.response.status_code": status, ...extra }
      : { "http.method": method, "http.status_code": status, ...extra };
  let id = 0;
  const span = (
    process: string,
    name: string,
    kind: string,
    parent: string | undefined,
    tags: Record<string, string | number>,
  ): JaegerSpan => ({
    traceID: "t",
    spanID: `s${++id}`,
    operationName: name,
    references: parent ? [{ refType: "CHILD_OF", traceID: "t", spanID: parent }] : [],
    startTime: id,
    duration: 1,
    tags: Object.entries({ ...tags, "span.kind": kind }).map(([key, value]) => ({ key, value })),
    processID: process,
  });
  const trace = (n: number): JaegerTrace => {
    id = n * 10;
    const root = span(
      "p1",
      "POST /api/orders",
      "server",
      undefined,
      http("POST", 201, { "http.route": "/api/orders", "server.address": "127.0.0.1", "server.port": 8080 }),
    );
    const client = span(
      "p1",
      "POST",
      "client",
      root.spanID,
      http("POST", 201, { "server.address": "127.0.0.1", "server.port": 8081 }),
    );
    const server = span("p2", "POST /orders", "server", client.spanID, http("POST", 201, { "http.route": "/orders" }));
    const redis = span("p2", "SET", "client", server.spanID, {
      "db.system": "redis",
      "server.address": "127.0.0.1",
      "server.port": 6379,
    });
    const processes = { p1: { serviceName: "gateway" }, p2: { serviceName: "orders" } };
    const traceID = `t${n}`;
    const spans = [root, client, server, redis].map((s) => ({
      ...s,
      traceID,
      references: s.references!.map((r) => ({ ...r, traceID })),
    }));
    return { traceID, spans, processes };
  };
  const target = {
    labels: { job: "otel", instance: "127.0.0.1:9464", service_name: "gateway" },
    scrapeUrl: "http://127.0.0.1:9464/metrics",
    health: "up",
  };
  const labels = { job: "otel", instance: "127.0.0.1:9464", service_name: "gateway" };
  return {
    prometheus: {
      url: "http://127.0.0.1:9090",
      targets: [target],
      metadata: [{ target: labels, metric: "http_server_request_duration_seconds", type: "histogram" }],
      series: [
        {
          __name__: "http_server_request_duration_seconds_count",
          ...labels,
          http_request_method: "POST",
          http_route: "/api/orders",
          http_response_status_code: "201",
        },
      ],
    },
    jaeger: {
      url: "http://127.0.0.1:16686",
      services: ["gateway", "orders"],
      operations: {
        gateway: [{ name: "POST /api/orders", spanKind: "server" }],
        orders: [{ name: "POST /orders", spanKind: "server" }],
      },
      dependencies: [{ parent: "gateway", child: "orders", callCount: 2 }],
      traces: [trace(1), trace(2)],
    },
  };
}

describe("init's discovery on an OpenTelemetry mesh with a datastore", () => {
  test("the built-in otel contract fits a service exposing its metric names in spans of the current conventions", () => {
    const draft: Draft = discoverMesh(otelMesh("new"), { readAt: READ_AT });
    expect(draft.config.services.gateway!.contract).toBe("otel");
    expect(draft.contracts).toEqual({});
    expect(draft.config.routes["POST /api/orders"]!.hops).toEqual([
      { from: "gateway", to: "orders", protocol: "http", method: "POST /orders" },
      { from: "orders", to: "redis", protocol: "redis" },
    ]);
    expect(draft.config.services.redis).toEqual({ role: "datastore", protocol: "redis" });
    expect(draft.config.links!["orders-redis"]).toEqual({
      from: "orders",
      to: "redis",
      protocol: "redis",
      address: "127.0.0.1:6379",
    });
    expect(draft.notes.tailOf(["routes", "POST /api/orders", "request"]).join()).toMatch(/fill in: body/);
    expect(renderConfig(draft, "../harness/config/mesh-config")).toContain('contract: "otel",');
  });

  test("spans of the older conventions get a contract of otel's metrics with the keys they carry", () => {
    const draft = discoverMesh(otelMesh("old"), { readAt: READ_AT });
    expect(draft.config.services.gateway!.contract).toBe("contract.json");
    const contract = draft.contracts["contract.json"]!;
    expect(contract.httpServerDuration.name).toBe("http_server_request_duration_seconds");
    expect(contract.spans).toMatchObject({ httpMethod: "http.method", httpStatusCode: "http.status_code" });
  });
});
