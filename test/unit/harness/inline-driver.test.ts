import http from "node:http";
import type { AddressInfo } from "node:net";
import { runInlineLoad } from "../../../harness/load/inline-driver";
import { LOOPBACK } from "../../../harness/util/ports";

describe("inline load driver", () => {
  let server: http.Server;
  let baseUrl: string;
  const seen: { traceparent?: string; requestId?: string; path?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({
        traceparent: req.headers.traceparent as string,
        requestId: req.headers["x-request-id"] as string,
        path: req.url,
      });
      // A slow route must not delay the schedule (open model).
      const delayMs = req.url === "/slow" ? 300 : 0;
      setTimeout(() => {
        res.statusCode = req.url === "/fail" ? 503 : 200;
        res.end("ok");
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    baseUrl = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  test("sends rate x duration requests on schedule and records each one as ground truth", async () => {
    seen.length = 0;
    const started = Date.now();
    const result = await runInlineLoad(
      {
        ratePerSec: 50,
        durationMs: 1_000,
        seed: 7,
        routes: [
          { route: "GET /slow", weight: 1 },
          { route: "GET /fail", weight: 1 },
        ],
      },
      {
        baseUrl,
        routes: {
          "GET /slow": () => ({ method: "GET", path: "/slow" }),
          "GET /fail": () => ({ method: "GET", path: "/fail" }),
        },
      },
    );
    expect(result.requests).toHaveLength(50);
    expect(seen).toHaveLength(50);
    // Open model: 50 requests at 50/s leave within about a second although half take 300 ms each.
    expect(Math.max(...result.requests.map((r) => r.startMs)) - started).toBeLessThan(1_200);
    for (const record of result.requests) {
      const wire = seen.find((s) => s.requestId === record.id);
      expect(wire?.traceparent).toBe(`00-${record.traceId}-${record.parentSpanId}-01`);
      expect(record.status).toBe(record.route === "GET /fail" ? 503 : 200);
      expect(record.endMs).toBeGreaterThanOrEqual(record.startMs);
    }
    expect(new Set(result.requests.map((r) => r.traceId)).size).toBe(50);
    expect(result.scheduleDriftMs).toHaveLength(50);
  });

  test("the same seed picks the same route sequence", async () => {
    const plan = {
      ratePerSec: 200,
      durationMs: 100,
      seed: 42,
      routes: [
        { route: "a", weight: 3 },
        { route: "b", weight: 1 },
      ],
    };
    const target = {
      baseUrl,
      routes: { a: () => ({ method: "GET" as const, path: "/a" }), b: () => ({ method: "GET" as const, path: "/b" }) },
    };
    const first = await runInlineLoad(plan, target);
    const second = await runInlineLoad(plan, target);
    expect(first.requests.map((r) => r.route)).toEqual(second.requests.map((r) => r.route));
    expect(first.requests.map((r) => r.route)).toContain("b");
  });

  test("a request without a response is recorded with status 0 and the error", async () => {
    const result = await runInlineLoad(
      { ratePerSec: 10, durationMs: 100, seed: 1, routes: [{ route: "x", weight: 1 }] },
      { baseUrl: "http://127.0.0.1:1", routes: { x: () => ({ method: "GET", path: "/" }) } },
    );
    expect(result.requests).toHaveLength(1);
    expect(result.requests[0]).toMatchObject({ status: 0, error: expect.stringContaining("ECONNREFUSED") });
  });
});
