import { BUILTIN_CONTRACTS } from "../../../assertions/contract";
import type { Evidence, FaultRecord, MetricSeries, RequestRecord } from "../../../assertions/evidence";
import {
  faultTargetService,
  localize,
  scoreLocalization,
  selfTimeUs,
  type RcaResult,
  type ScoredRun,
} from "../../../assertions/rca";
import type { Span, Trace } from "../../../assertions/trace-model";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/sample-topology";
import { catalogFixture } from "../../support/evidence-fixture";

const T0 = 1_800_000_000_000;
const node = BUILTIN_CONTRACTS.node;
const SERVICES: Evidence["services"] = [
  { name: "gateway", role: "edge", protocol: "http", instance: "127.0.0.1:1001", contract: node, impl: "node" },
  { name: "orders", role: "internal", protocol: "http", instance: "127.0.0.1:1002", contract: node, impl: "node" },
  {
    name: "inventory",
    role: "internal",
    protocol: "grpc",
    instance: "127.0.0.1:1003",
    contract: node,
    impl: "node",
    operations: ["meshproof.inventory.v1.Inventory/Reserve"],
  },
  {
    name: "payments",
    role: "internal",
    protocol: "grpc",
    instance: "127.0.0.1:1004",
    contract: node,
    impl: "node",
    operations: ["meshproof.payments.v1.Payments/Charge"],
  },
];

/** How one checkout's trace deviates from a healthy 10 ms one. */
interface Shape {
  /** Extra time inside inventory's Reserve handler (a deep span). */
  inventoryMs?: number;
  /** Extra time in orders' own handler, outside every call (a shallow span). */
  ordersSelfMs?: number;
  /** payments answers UNAVAILABLE (ERROR from the leaf up to the edge). */
  paymentsError?: boolean;
  /** orders fails on its own after its calls succeeded (ERROR at orders and above only). */
  ordersError?: boolean;
  /** The orders -> payments call never reaches payments (no server span; the client span is ERROR). */
  paymentsUnreachable?: boolean;
}

let spanSeq = 0;
function span(
  traceId: string,
  parent: Span | undefined,
  fields: Partial<Span> & Pick<Span, "service" | "name" | "kind">,
): Span {
  return {
    traceId,
    spanId: (++spanSeq).toString(16).padStart(16, "0"),
    parentSpanId: parent?.spanId,
    startTimeUs: 0,
    durationUs: 0,
    status: "unset",
    attributes: {},
    ...fields,
  };
}

const grpc = (service: string, method: string, code: number) => ({
  "rpc.system": "grpc",
  "rpc.service": service,
  "rpc.method": method,
  "rpc.grpc.status_code": code,
});
const http = (method: string, status: number, route?: string) => ({
  "http.request.method": method,
  "http.response.status_code": status,
  ...(route ? { "http.route": route } : {}),
});

/** A checkout's trace laid out sequentially from startUs: gateway -> orders -> (inventory Reserve, payments Charge). */
function checkoutTrace(
  traceId: string,
  startUs: number,
  shape: Shape,
): { trace: Trace; status: number; durationUs: number } {
  const spans: Span[] = [];
  const failing = shape.paymentsError || shape.ordersError || shape.paymentsUnreachable;
  const edge = span(traceId, undefined, { service: "gateway", name: "POST /api/checkout", kind: "server" });
  const gwClient = span(traceId, edge, { service: "gateway", name: "POST", kind: "client" });
  const orders = span(traceId, gwClient, { service: "orders", name: "POST /orders", kind: "server" });
  const reserveClient = span(traceId, orders, { service: "orders", name: "grpc.Inventory/Reserve", kind: "client" });
  const reserve = span(traceId, reserveClient, {
    service: "inventory",
    name: "grpc.Inventory/Reserve",
    kind: "server",
  });
  const chargeClient = span(traceId, orders, { service: "orders", name: "grpc.Payments/Charge", kind: "client" });
  const charge = span(traceId, chargeClient, { service: "payments", name: "grpc.Payments/Charge", kind: "server" });
  // Bottom-up durations (us): every span adds 500 us of its own.
  let t = startUs + 1_500;
  reserveClient.startTimeUs = t;
  reserve.startTimeUs = t + 200;
  reserve.durationUs = 500 + (shape.inventoryMs ?? 0) * 1000;
  reserveClient.durationUs = reserve.durationUs + 500;
  t += reserveClient.durationUs;
  chargeClient.startTimeUs = t;
  charge.startTimeUs = t + 200;
  charge.durationUs = 500;
  chargeClient.durationUs = 1_000;
  t += chargeClient.durationUs;
  orders.startTimeUs = startUs + 1_000;
  orders.durationUs = t - orders.startTimeUs + 500 + (shape.ordersSelfMs ?? 0) * 1000;
  gwClient.startTimeUs = startUs + 500;
  gwClient.durationUs = orders.durationUs + 1_000;
  edge.startTimeUs = startUs;
  edge.durationUs = gwClient.durationUs + 1_000;
  const edgeStatus = failing ? 502 : 201;
  const ordersStatus = failing ? 503 : 201;
  const chargeCode = shape.paymentsError || shape.paymentsUnreachable ? 14 : 0;
  edge.attributes = http("POST", edgeStatus, "/api/checkout");
  gwClient.attributes = http("POST", ordersStatus);
  orders.attributes = http("POST", ordersStatus, "/orders");
  reserveClient.attributes = grpc("meshproof.inventory.v1.Inventory", "Reserve", 0);
  reserve.attributes = grpc("meshproof.inventory.v1.Inventory", "Reserve", 0);
  chargeClient.attributes = grpc("meshproof.payments.v1.Payments", "Charge", chargeCode);
  charge.attributes = grpc("meshproof.payments.v1.Payments", "Charge", chargeCode);
  if (failing) for (const s of [edge, gwClient, orders]) s.status = "error";
  if (shape.paymentsError || shape.paymentsUnreachable) chargeClient.status = "error";
  if (shape.paymentsError) charge.status = "error";
  spans.push(edge, gwClient, orders, reserveClient, reserve, chargeClient);
  if (!shape.paymentsUnreachable) spans.push(charge);
  return { trace: { traceId, spans }, status: edgeStatus, durationUs: edge.durationUs };
}

/**
 * 10 checkouts per second for 6 s; those starting in [2 s, 4 s) take `inWindow`'s shape (every `every`-th of them;
 * the others stay healthy).
 */
function evidenceWith(inWindow: Shape, every = 1, extra: Partial<Evidence> = {}): Evidence {
  const requests: RequestRecord[] = [];
  const traces: Record<string, Trace> = {};
  for (let i = 0; i < 60; i++) {
    const startMs = T0 + i * 100;
    const traceId = i.toString(16).padStart(32, "0");
    const shaped = startMs >= T0 + 2_000 && startMs < T0 + 4_000 && i % every === 0;
    const { trace, status, durationUs } = checkoutTrace(traceId, startMs * 1000, shaped ? inWindow : {});
    traces[traceId] = trace;
    requests.push({
      id: `r${i}`,
      traceId,
      parentSpanId: "ffffffffffffffff",
      route: "POST /api/checkout",
      startMs,
      endMs: startMs + Math.round(durationUs / 1000) + 1,
      status,
    });
  }
  return {
    scenario: "hand-made",
    window: { startMs: T0, endMs: T0 + 6_000 },
    plan: { requests: 60, routes: { "POST /api/checkout": 1 }, samplingRatio: 1 },
    requests,
    faults: [],
    probes: [],
    metrics: { start: [], end: [], at: {}, range: [], metadata: {}, exposition: {}, exemplars: [] },
    traces,
    logs: {},
    services: SERVICES,
    ...extra,
  };
}

function top(result: RcaResult): string[] {
  return result.windows.flatMap((w) =>
    w.suspects.map((s) => `${s.service} ${s.operation}${s.via ? ` [${s.via}]` : ""}`),
  );
}

describe("root-cause localisation on the catalog fixture (a real run)", () => {
  const runs: ScoredRun[] = catalogFixture().map((s) => ({
    scenario: s.name,
    faults: s.evidence.faults,
    services: s.evidence.services.map((x) => x.name),
    windowEndMs: s.evidence.window.endMs,
    result: localize(s.evidence, { topology: s.expectations.topology }),
  }));
  const run = (name: string) => runs.find((r) => r.scenario === name)!;

  test.each([
    ["inventory-latency", "inventory", "meshproof.inventory.v1.Inventory/Reserve", ["p99"]],
    ["payments-errors", "payments", "meshproof.payments.v1.Payments/Charge", ["error-rate"]],
    ["redis-outage", "orders", "POST /orders", ["error-rate"]],
  ])(
    "%s: one window on the checkout route over the fault, its target ranked first",
    (name, service, operation, signals) => {
      const { result, faults } = run(name);
      expect(result.windows.map((w) => ({ route: w.route, signals: w.signals }))).toEqual([
        { route: "POST /api/checkout", signals },
      ]);
      const [w] = result.windows;
      expect(w!.startMs).toBeLessThan(faults[0]!.revertedAtMs!);
      expect(w!.endMs).toBeGreaterThan(faults[0]!.appliedAtMs);
      expect(w!.suspects[0]).toMatchObject({ service, operation });
      expect(w!.suspects[0]!.score).toBeGreaterThan(0.8);
      // The range holds the RED histograms and every runtime series: nothing missing, no note about it.
      expect(result.notes).toEqual([]);
      expect(w!.suspects[0]!.runtime.cpuCores).toBeDefined();
      expect(w!.suspects[0]!.runtime.missing).toEqual([]);
    },
  );

  test("baseline: no window", () => {
    expect(run("baseline").result.windows).toEqual([]);
  });

  test("every fault that reached the request log is localised first; the misses are the faults that did not", () => {
    const score = scoreLocalization(runs);
    // CPU burn and memory held below any deadline move no route's error rate or p99: no window, named as such.
    const silent = new Set(["cpu", "memory"]);
    expect(score.misses.map((m) => `${m.scenario} ${m.kind}`)).toEqual([
      "cpu-burn cpu",
      "memory-pressure memory",
      "memory-pressure memory",
    ]);
    for (const miss of score.misses) expect(miss.reason).toMatch(/no window of any route overlaps the fault/);
    for (const [kind, k] of Object.entries(score.byKind))
      expect({ kind, ...k }).toEqual({
        kind,
        faults: k.faults,
        ac1: silent.has(kind) ? 0 : 1,
        ac3: silent.has(kind) ? 0 : 1,
      });
    expect(score.faults).toBe(15);
    expect(score.unexplainedWindows).toEqual([]);
  });

  test("a fault whose effect was not seen is a miss with its reason", () => {
    const quiet = run("baseline");
    const fault: FaultRecord = {
      id: "fault-1",
      kind: "latency",
      target: "payments.Charge",
      params: { ms: 1 },
      appliedAtMs: quiet.windowEndMs - 3_000,
      revertedAtMs: quiet.windowEndMs - 1_000,
    };
    const score = scoreLocalization([{ ...quiet, faults: [fault] }]);
    expect(score).toMatchObject({ faults: 1, ac1: 0, ac3: 0 });
    expect(score.misses).toEqual([
      expect.objectContaining({ scenario: "baseline", expected: "payments", rank: null, ranking: [] }),
    ]);
    expect(score.misses[0]!.reason).toMatch(/no window/);
  });
});

describe("root-cause localisation on hand-made evidence", () => {
  test("a deep slow span is put on the deep span, not on its callers whose durations include it", () => {
    const result = localize(evidenceWith({ inventoryMs: 200 }), { topology: MESH_TOPOLOGY });
    expect(result.windows.map((w) => w.signals)).toEqual([["p99"]]);
    expect(top(result)[0]).toBe("inventory meshproof.inventory.v1.Inventory/Reserve");
    const first = result.windows[0]!.suspects[0]!;
    expect(first.traces).toMatchObject({ signal: "self-time" });
    expect(first.traces!.selfTimeDeltaMs).toBeCloseTo(200, 0);
  });

  test("a shallow slow span is put on the shallow span, not on the callee below it", () => {
    const result = localize(evidenceWith({ ordersSelfMs: 200 }), { topology: MESH_TOPOLOGY });
    expect(top(result)[0]).toBe("orders POST /orders");
    expect(top(result)).not.toContain("inventory meshproof.inventory.v1.Inventory/Reserve");
  });

  test("an error at the leaf is put on the leaf, not on the callers it travelled through", () => {
    const result = localize(evidenceWith({ paymentsError: true }, 2), { topology: MESH_TOPOLOGY });
    expect(result.windows.map((w) => w.signals)).toEqual([["error-rate"]]);
    expect(top(result)).toEqual(["payments meshproof.payments.v1.Payments/Charge"]);
    expect(result.windows[0]!.suspects[0]!.traces).toEqual({ signal: "error", share: 1, requests: 10 });
  });

  test("an error raised by a caller whose calls succeeded is put on the caller", () => {
    const result = localize(evidenceWith({ ordersError: true }, 2), { topology: MESH_TOPOLOGY });
    expect(top(result)).toEqual(["orders POST /orders"]);
  });

  test("a call that never reached its server is put on the callee, via the link", () => {
    const result = localize(evidenceWith({ paymentsUnreachable: true }, 2), { topology: MESH_TOPOLOGY });
    expect(top(result)).toEqual(["payments meshproof.payments.v1.Payments/Charge [orders -> payments]"]);
  });

  test("no change, no window", () => {
    expect(localize(evidenceWith({})).windows).toEqual([]);
  });

  test("metrics: of the endpoints that moved in the same scrape interval, the deepest ranks first", () => {
    const evidence = evidenceWith({ paymentsError: true }, 2);
    // 1 s steps from load start; errors appear in the step ending at +3 s at payments and orders' client alike.
    const times = [0, 1, 2, 3, 4, 5, 6].map((s) => T0 / 1000 + s);
    const counter = (
      name: string,
      instance: string,
      labels: Record<string, string>,
      values: number[],
    ): MetricSeries => ({
      name,
      labels: { instance, job: "mesh", ...labels },
      values: times.map((t, i) => [t, values[i]!]),
    });
    const charge = { grpc_service: "meshproof.payments.v1.Payments", grpc_method: "Charge" };
    const ok = [0, 10, 20, 25, 30, 40, 50];
    const failed = [0, 0, 0, 5, 10, 10, 10];
    evidence.metrics.range = [
      counter("grpc_server_handling_seconds_count", "127.0.0.1:1004", { ...charge, grpc_code: "OK" }, ok),
      counter("grpc_server_handling_seconds_count", "127.0.0.1:1004", { ...charge, grpc_code: "UNAVAILABLE" }, failed),
      counter("grpc_client_handling_seconds_count", "127.0.0.1:1002", { ...charge, grpc_code: "OK" }, ok),
      counter("grpc_client_handling_seconds_count", "127.0.0.1:1002", { ...charge, grpc_code: "UNAVAILABLE" }, failed),
    ];
    const suspects = localize(evidence, { topology: MESH_TOPOLOGY }).windows[0]!.suspects;
    expect(suspects.map((s) => [s.service, s.via, s.metrics?.rank, s.metrics?.endpoint])).toEqual([
      ["payments", undefined, 1, "payments grpc server"],
      ["payments", "orders -> payments", 2, "orders grpc client"],
    ]);
    expect(suspects[0]!.score).toBe(1);
  });

  test("self-time: sequential children add up, overlapping ones count once, ms-rounded starts tolerated", () => {
    const parent = { durationUs: 10_000 } as Span;
    const child = (startTimeUs: number, durationUs: number) => ({ startTimeUs, durationUs }) as Span;
    expect(selfTimeUs(parent, [child(0, 3_000), child(3_000, 3_000)])).toBe(4_000);
    // The second child's start rounded down by 1 ms: still sequential.
    expect(selfTimeUs(parent, [child(0, 3_400), child(3_000, 3_000)])).toBe(3_600);
    // Parallel children cover their union only.
    expect(selfTimeUs(parent, [child(0, 6_000), child(1_000, 6_000)])).toBe(3_000);
    expect(selfTimeUs(parent, [child(0, 12_000)])).toBe(0);
  });
});

describe("the AC@k target of a fault", () => {
  const mesh = SERVICES.map((s) => s.name);
  test.each([
    ["error", "payments.Charge", "payments"],
    ["latency", "inventory", "inventory"],
    ["link-down", "orders-payments", "payments"],
    ["link-latency", "gateway-orders", "orders"],
    ["link-down", "orders-redis", "orders"],
  ])("%s on %s -> %s", (kind, target, expected) => {
    expect(faultTargetService({ kind, target }, mesh)).toBe(expected);
  });
});
