import fs from "node:fs";
import path from "node:path";
import {
  k6Scenario,
  k6ScheduleDriftMs,
  K6OutputParser,
  mapK6Exit,
  parseGoTimeMs,
  parseK6Output,
  thresholdsOf,
} from "../../../harness/load/k6-output";
import { arrivalOffsetsMs, parseTraceresponse, planRequests, validatePlan } from "../../../harness/load/load-plan";
import type { ServerSeen } from "../../support/truth-server";

// Real k6 v1.8.1 output, captured by test/fixtures/k6/capture.ts (see there for the plan and the server).
const FIXTURES = path.resolve(__dirname, "../../../../test/fixtures/k6");
const lines = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8").split("\n");
const json = <T>(name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as T;

describe("k6 output parser", () => {
  const parsed = parseK6Output(lines("server.jsonl"));
  const truth = new Map(json<ServerSeen[]>("server-truth.json").map((s) => [s.requestId, s]));

  test("the running counts (live progress) agree with the records: finished, and without a success status", () => {
    const parser = new K6OutputParser();
    const all = lines("server.jsonl");
    for (const line of all.slice(0, all.length / 2)) parser.push(line);
    expect(parser.counts().sent).toBeLessThan(8);
    for (const line of all.slice(all.length / 2)) parser.push(line);
    expect(parser.counts()).toEqual({
      sent: parsed.requests.length,
      failed: parsed.requests.filter((r) => r.status === 0 || r.status >= 400).length,
    });
    expect(parser.counts().failed).toBeGreaterThan(0);
  });

  test("one record per request the script sent, matching what the server saw", () => {
    expect(parsed.requests).toHaveLength(8);
    expect(new Set(parsed.requests.map((r) => r.id)).size).toBe(8);
    expect(parsed.requests.map((r) => r.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(truth.size).toBe(8);
    for (const r of parsed.requests) {
      const seen = truth.get(r.id)!;
      expect(seen).toBeDefined();
      expect(r.route).toBe(`${seen.method} ${seen.path}`);
      // The status the server sent, 0 with k6's error for the request that timed out at 300 ms.
      if (seen.path === "/hang") {
        expect(r).toMatchObject({ status: 0, error: "request timeout (k6 error code 1050)" });
        expect(r.endMs - r.startMs).toBeGreaterThanOrEqual(300);
        expect(r.endMs - r.startMs).toBeLessThan(400);
      } else {
        expect(r.status).toBe(seen.status);
        expect(r.error).toBeUndefined();
      }
      // The trace context on the wire is the one recorded.
      const expected =
        r.parent === "none" ? undefined : `00-${r.traceId}-${r.parentSpanId}-${r.parent === "sampled" ? "01" : "00"}`;
      expect(seen.traceparent).toBe(expected);
      if (r.parent === "none") expect(r.traceId).toBe("");
      // Causality, across two processes' wall clocks (1 ms slack): k6 started before the server had the request and
      // ended after the server began answering.
      expect(r.startMs).toBeLessThanOrEqual(seen.receivedMs + 1);
      if (seen.respondedMs !== undefined) expect(r.endMs).toBeGreaterThanOrEqual(seen.respondedMs - 1);
      expect(r.startFrom).toBe("trail");
    }
  });

  test("traceresponse headers become responseTraceId and responseSampled", () => {
    const answered = parsed.requests.filter((r) => r.parent !== "none" && r.status > 0);
    expect(answered.length).toBeGreaterThan(0);
    for (const r of answered) expect(r).toMatchObject({ responseTraceId: r.traceId, responseSampled: true });
    for (const r of parsed.requests.filter((r) => r.status === 0)) expect(r.responseTraceId).toBeUndefined();
  });

  test("k6's own accounting: iterations and dropped iterations", () => {
    expect(parsed.iterations).toBe(8);
    expect(parsed.droppedIterations).toBe(1);
    expect(parsed.malformedLines).toBe(0);
  });

  test("a request refused before any phase was timed starts at the script's clock", () => {
    const refused = parseK6Output(lines("refused.jsonl")).requests;
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r).toMatchObject({
        status: 0,
        startFrom: "script",
        error: "dial: connection refused (k6 error code 1212)",
      });
      expect(Number.isInteger(r.startMs)).toBe(true);
      expect(r.endMs).toBeGreaterThanOrEqual(r.startMs);
    }
  });

  test("a line cut off by a kill is counted, not fatal", () => {
    const all = lines("server.jsonl").filter(Boolean);
    const last = all.at(-1)!;
    const cut = parseK6Output([...all.slice(0, -1), last.slice(0, last.length / 2)]);
    expect(cut.malformedLines).toBe(1);
    expect(cut.requests.length).toBeGreaterThanOrEqual(7);
  });

  test("thresholds of the summary export: a crossed one is ok: false", () => {
    expect(thresholdsOf(json("server-summary.json"))).toEqual([
      { metric: "http_req_failed", expression: "rate<0.01", ok: false },
    ]);
    expect(thresholdsOf(undefined)).toEqual([]);
  });

  test("Go timestamps keep their sub-ms fraction and offset", () => {
    expect(parseGoTimeMs("2026-11-21T23:25:49.769358295Z")).toBeCloseTo(
      Date.UTC(2026, 10, 21, 23, 25, 49, 769) + 0.358295,
      3,
    );
    expect(parseGoTimeMs("2026-11-22T01:25:49.5+02:00")).toBe(Date.UTC(2026, 10, 21, 23, 25, 49, 500));
    expect(parseGoTimeMs("2026-11-21T23:25:49Z")).toBe(Date.UTC(2026, 10, 21, 23, 25, 49));
    expect(() => parseGoTimeMs("yesterday")).toThrow("not an RFC 3339 time");
  });

  test("schedule drift is measured against the plan's offsets", () => {
    const plan = { ratePerSec: 10, durationMs: 300, seed: 1, routes: [{ route: "a", weight: 1 }] };
    const at = (iteration: number, startMs: number) =>
      ({
        id: `${iteration}`,
        traceId: "",
        route: "a",
        startMs,
        endMs: startMs,
        status: 200,
        iteration,
        startFrom: "trail",
      }) as const;
    expect(k6ScheduleDriftMs(plan, [at(0, 1000), at(1, 1102), at(2, 1200.5)])).toEqual([0, 2, 0.5]);
  });
});

describe("k6 executors from a load plan", () => {
  const routes = [{ route: "GET /api/products/:sku", weight: 1 }];

  test("a constant rate is constant-arrival-rate, VUs sized from rate x latency and rate x timeout", () => {
    expect(k6Scenario({ ratePerSec: 20, durationMs: 3000, seed: 1, routes })).toEqual({
      executor: "constant-arrival-rate",
      rate: 20,
      timeUnit: "1s",
      duration: "3000ms",
      preAllocatedVUs: 10,
      maxVUs: 200,
      gracefulStop: "11000ms",
    });
    expect(
      k6Scenario({ ratePerSec: 400, durationMs: 1000, seed: 1, routes, timeoutMs: 2000 }, { expectedLatencyMs: 100 }),
    ).toMatchObject({ preAllocatedVUs: 80, maxVUs: 800, gracefulStop: "3000ms" });
    expect(k6Scenario({ ratePerSec: 400, durationMs: 1000, seed: 1, routes })).toMatchObject({ preAllocatedVUs: 80 });
    expect(k6Scenario({ ratePerSec: 5000, durationMs: 1000, seed: 1, routes }, { maxVUsCap: 600 })).toMatchObject({
      preAllocatedVUs: 600,
      maxVUs: 600,
    });
  });

  test("a fractional rate is an integer per a longer time unit", () => {
    expect(k6Scenario({ ratePerSec: 2.5, durationMs: 4000, seed: 1, routes })).toMatchObject({
      rate: 25,
      timeUnit: "10s",
    });
    expect(k6Scenario({ ratePerSec: 0.125, durationMs: 8000, seed: 1, routes })).toMatchObject({
      rate: 125,
      timeUnit: "1000s",
    });
  });

  test("stages are ramping-arrival-rate from ratePerSec, sized for the peak", () => {
    expect(
      k6Scenario({
        ratePerSec: 5,
        durationMs: 3000,
        seed: 1,
        routes,
        stages: [
          { durationMs: 1000, targetRatePerSec: 50 },
          { durationMs: 2000, targetRatePerSec: 10.5 },
        ],
      }),
    ).toEqual({
      executor: "ramping-arrival-rate",
      startRate: 50,
      timeUnit: "10s",
      stages: [
        { duration: "1000ms", target: 500 },
        { duration: "2000ms", target: 105 },
      ],
      preAllocatedVUs: 10,
      maxVUs: 500,
      gracefulStop: "11000ms",
    });
  });
});

describe("k6 exit codes", () => {
  test.each([
    [0, null, "passed", 0],
    [99, null, "thresholds-failed", 1],
    [110, null, "marked-failed", 1],
    [107, null, "script-error", 2],
    [108, null, "script-error", 2],
    [104, null, "usage-error", 2],
    [255, null, "usage-error", 2],
    [105, null, "aborted", 2],
    [null, "SIGKILL", "aborted", 2],
    [103, null, "error", 2],
  ] as const)("k6 exit %p (signal %p) is %s, meshproof %p", (code, signal, outcome, exitCode) => {
    expect(mapK6Exit(code, signal)).toEqual({ outcome, exitCode });
  });
});

describe("load plans", () => {
  const routes = [
    { route: "a", weight: 3 },
    { route: "b", weight: 1 },
  ];
  const catalog = {
    a: () => ({ method: "GET" as const, path: "/a" }),
    b: () => ({ method: "GET" as const, path: "/b" }),
  };

  test("a constant rate is due every 1/rate", () => {
    expect(arrivalOffsetsMs({ ratePerSec: 4, durationMs: 1000, seed: 1, routes })).toEqual([0, 250, 500, 750]);
  });

  test("a ramp integrates the rate: 0 -> 10/s over 2 s is 10 requests, ever closer together, the last at 2 s", () => {
    const offsets = arrivalOffsetsMs({
      ratePerSec: 0,
      durationMs: 2000,
      seed: 1,
      routes,
      stages: [{ durationMs: 2000, targetRatePerSec: 10 }],
    });
    expect(offsets).toHaveLength(10);
    // N(t) = 2.5 t^2 (t in s); as k6's ramping-arrival-rate, request i is due when N reaches i + 1.
    offsets.forEach((t, i) => expect(t).toBeCloseTo(Math.sqrt((i + 1) / 2.5) * 1000, 6));
  });

  test("traceparent modes follow their weights, from their own generator", () => {
    const plain = planRequests({ ratePerSec: 1000, durationMs: 2000, seed: 5, routes }, catalog);
    const mixed = planRequests(
      { ratePerSec: 1000, durationMs: 2000, seed: 5, routes, traceparent: { sampled: 2, unsampled: 1, none: 1 } },
      catalog,
    );
    expect(mixed.map((r) => r.route)).toEqual(plain.map((r) => r.route));
    expect(plain.every((r) => r.parent === "sampled")).toBe(true);
    const share = (mode: string) => mixed.filter((r) => r.parent === mode).length / mixed.length;
    expect(share("sampled")).toBeCloseTo(0.5, 1);
    expect(share("unsampled")).toBeCloseTo(0.25, 1);
    expect(share("none")).toBeCloseTo(0.25, 1);
  });

  test("a bad plan names the key", () => {
    expect(() =>
      validatePlan({
        ratePerSec: 5,
        durationMs: 1000,
        seed: 1,
        routes,
        stages: [{ durationMs: 500, targetRatePerSec: 1 }],
      }),
    ).toThrow("load plan: durationMs must equal the sum of stages[].durationMs (500) (got 1000)");
    expect(() => validatePlan({ ratePerSec: 0, durationMs: 1000, seed: 1, routes })).toThrow("ratePerSec must be > 0");
    expect(() =>
      validatePlan({
        ratePerSec: 1,
        durationMs: 1000,
        seed: 1,
        routes,
        traceparent: { sampled: 0, unsampled: 0, none: 0 },
      }),
    ).toThrow("traceparent must have a weight > 0");
  });

  test("traceresponse: trace id and sampled flag, nothing from a malformed or invalid header", () => {
    expect(parseTraceresponse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      responseTraceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      responseSampled: true,
    });
    expect(parseTraceresponse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-00")).toEqual({
      responseTraceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      responseSampled: false,
    });
    expect(parseTraceresponse(undefined)).toBeUndefined();
    expect(parseTraceresponse("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceresponse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceresponse("garbage")).toBeUndefined();
  });
});
