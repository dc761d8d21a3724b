import { BUILTIN_CONTRACTS } from "../../../assertions/contract";
import type { Evidence, FaultRecord, MetricSeries, RequestRecord } from "../../../assertions/evidence";
import {
  faultRanking,
  faultTargetService,
  localize,
  randomHitChance,
  ruleBasedRanking,
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

  test("every fault is localised first: CPU and memory held below every deadline by their runtime windows", () => {
    const score = scoreLocalization(runs);
    expect(score.misses).toEqual([]);
    for (const [kind, k] of Object.entries(score.byKind))
      expect({ kind, ...k }).toEqual({ kind, faults: k.faults, ac1: 1, ac3: 1, avg5: 1 });
    expect(score).toMatchObject({ faults: 15, ac1: 1, ac3: 1, avg5: 1 });
    expect(score.unexplainedWindows).toEqual([]);
  });

  test("cpu-burn moves no route: its fault is found from payments' runtime window (its share of the mesh's CPU)", () => {
    const { result } = run("cpu-burn");
    expect(result.windows).toEqual([]);
    expect(result.runtimeWindows!.map((w) => [w.service, w.signals])).toEqual([["payments", ["cpu"]]]);
    const [w] = result.runtimeWindows!;
    expect(w!.cpu!.share - w!.cpu!.steadyShare).toBeGreaterThanOrEqual(0.3);
    expect(w!.suspects[0]).toMatchObject({ service: "payments", operation: "runtime (cpu)" });
  });

  test("memory-pressure: each held heap is its service's window; the concurrent fault's target is no error", () => {
    const { result } = run("memory-pressure");
    expect(result.runtimeWindows!.map((w) => w.service).sort()).toEqual(["inventory", "orders"]);
    for (const w of result.runtimeWindows!) expect(w.signals).toContain("heap");
  });

  test("no runtime window where no fault was injected", () => {
    for (const r of runs.filter((x) => x.faults.length === 0))
      expect([r.scenario, r.result.runtimeWindows]).toEqual([r.scenario, []]);
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
    // Not ranked at all: a miss at every k.
    expect(score).toMatchObject({ faults: 1, ac1: 0, ac3: 0, avg5: 0 });
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

/** A fault of the hand-made evidence, from T0 + fromMs to T0 + toMs. */
function handMadeFault(
  kind: string,
  target: string,
  params: FaultRecord["params"],
  fromMs: number,
  toMs: number,
): FaultRecord {
  return { id: `${kind}-${target}`, kind, target, params, appliedAtMs: T0 + fromMs, revertedAtMs: T0 + toMs };
}

/** The hand-made evidence's localisation scored against these faults. */
function scoreHandMade(faults: FaultRecord[], result: RcaResult, evidence?: Evidence) {
  const services = SERVICES.map((s) => s.name);
  return scoreLocalization([{ scenario: "hand-made", faults, services, windowEndMs: T0 + 6_000, result, evidence }]);
}

/**
 * CPU seconds and heap of every service at 1 s steps from 5 s before load (T0) to its end (+6 s); each service idles
 * at 0.05 cores and 40 MB unless `cores` or `heapMB` gives it a figure for a step (index 0 = T0 - 5 s).
 */
function runtimeRange(
  cores: Record<string, Record<number, number>>,
  heapMB: Record<string, Record<number, number>> = {},
) {
  const steps = Array.from({ length: 12 }, (_, i) => T0 / 1000 - 5 + i);
  return SERVICES.flatMap((s): MetricSeries[] => {
    let cpu = 0;
    const labels = { instance: s.instance, job: "mesh" };
    return [
      {
        name: "process_cpu_seconds_total",
        labels,
        values: steps.map((t, i) => [t, (cpu += i === 0 ? 0 : (cores[s.name]?.[i] ?? 0.05))]),
      },
      {
        name: "nodejs_heap_size_used_bytes",
        labels,
        values: steps.map((t, i) => [t, (heapMB[s.name]?.[i] ?? 40) * 1e6]),
      },
    ];
  });
}

describe("runtime windows on hand-made evidence", () => {
  const withRange = (range: MetricSeries[]) => {
    const evidence = evidenceWith({});
    evidence.metrics.range = range;
    return localize(evidence, { topology: MESH_TOPOLOGY });
  };

  test("a CPU fault with no route moving is found from the runtime window", () => {
    // payments burns half a core from +2 s to +4 s (steps 8..9); no request is slower.
    const result = withRange(runtimeRange({ payments: { 8: 0.55, 9: 0.55 } }));
    expect(result.windows).toEqual([]);
    expect(result.runtimeWindows!.map((w) => [w.service, w.signals, w.startMs - T0, w.endMs - T0])).toEqual([
      ["payments", ["cpu"], 2_000, 4_000],
    ]);
    const fault = handMadeFault("cpu", "payments", {}, 2_000, 4_000);
    const score = scoreHandMade([fault], result);
    expect(score).toMatchObject({ ac1: 1, misses: [] });
  });

  test("load moving every service's CPU together is no runtime window; a small heap rise under load neither", () => {
    const all = (v: number) => ({ 7: v, 8: v, 9: v, 10: v });
    const result = withRange(
      runtimeRange(
        { gateway: all(0.5), orders: all(0.5), inventory: all(0.25), payments: all(0.2) },
        { gateway: { 8: 60 } },
      ),
    );
    expect(result.runtimeWindows).toEqual([]);
  });

  test("a held heap is a window from its rise while it stays up; a rise few requests explain is none", () => {
    const result = withRange(runtimeRange({}, { orders: { 8: 300, 9: 300, 10: 300 } }));
    expect(result.runtimeWindows!.map((w) => [w.service, w.signals, w.startMs - T0, w.endMs - T0])).toEqual([
      ["orders", ["heap"], 2_000, 5_000],
    ]);
    expect(result.runtimeWindows![0]!.heap!.riseBytes).toBe(260e6);
  });

  test("a route window and a runtime window on the same service merge into one stronger entry", () => {
    // payments slow on Charge (a route window on the checkout whose traces put it on payments) while its CPU rises.
    const evidence = evidenceWith({ inventoryMs: 200 });
    evidence.metrics.range = runtimeRange({ inventory: { 8: 0.55, 9: 0.55 } });
    const result = localize(evidence, { topology: MESH_TOPOLOGY });
    const fault = handMadeFault("latency", "inventory", { ms: 200 }, 2_000, 4_000);
    const { ranking } = faultRanking(fault, result, T0 + 6_000);
    const route = result.windows[0]!.suspects.find((x) => x.service === "inventory")!.score;
    const runtime = result.runtimeWindows![0]!.suspects[0]!.score;
    expect(ranking.filter((x) => x.service === "inventory")).toHaveLength(1);
    expect(ranking[0]).toMatchObject({
      service: "inventory",
      score: Number((1 - (1 - route) * (1 - runtime)).toFixed(3)),
    });
  });

  test("a runtime change on the caller of a service whose window began first ranks below it (a consequence)", () => {
    // inventory burns CPU from +2 s; orders, its caller, holds 200 MB more from +3 s (its calls wait on inventory).
    const result = withRange(runtimeRange({ inventory: { 8: 0.6, 9: 0.6, 10: 0.6 } }, { orders: { 9: 240, 10: 240 } }));
    const windows = Object.fromEntries(result.runtimeWindows!.map((w) => [w.service, w]));
    expect(windows.orders!.consequenceOf).toBe("inventory");
    expect(windows.inventory!.consequenceOf).toBeUndefined();
    expect(windows.orders!.score).toBe(1);
    expect(windows.orders!.suspects[0]!.score).toBe(0.5);
    const fault = handMadeFault("cpu", "inventory", {}, 2_000, 5_000);
    const { ranking } = faultRanking(fault, result, T0 + 6_000);
    expect(ranking.map((x) => x.service)).toEqual(["inventory", "orders"]);
  });

  test("two faults at once: the other fault's target ranked above is no miss", () => {
    const result = withRange(runtimeRange({}, { orders: { 8: 300, 9: 300 }, inventory: { 8: 100, 9: 100 } }));
    const memory = (target: string) => handMadeFault("memory", target, {}, 2_000, 4_000);
    const score = scoreHandMade([memory("orders"), memory("inventory")], result);
    expect(score).toMatchObject({ faults: 2, ac1: 1, misses: [] });
  });
});

describe("the baselines RCA is scored beside", () => {
  test("random: a uniformly random ranking of n services has the target within k with chance k/n", () => {
    expect([1, 3, 5].map((k) => randomHitChance(k, 4))).toEqual([0.25, 0.75, 1]);
    expect(randomHitChance(1, 0)).toBe(0);
  });

  test("rule-based: the service whose own p99 or error rate changed most ranks first", () => {
    const evidence = evidenceWith({ inventoryMs: 200 });
    expect(ruleBasedRanking(evidence, { startMs: T0 + 2_000, endMs: T0 + 4_000 })[0]).toBe("inventory");
    const errors = evidenceWith({ ordersError: true });
    // orders fails on its own: orders and the gateway above it both turn to errors; payments and inventory not.
    expect(
      ruleBasedRanking(errors, { startMs: T0 + 2_000, endMs: T0 + 4_000 })
        .slice(2)
        .sort(),
    ).toEqual(["inventory", "payments"]);
  });

  test("scored beside meshproof's on the same faults, per kind", () => {
    const evidence = evidenceWith({ inventoryMs: 200 });
    const fault = handMadeFault("latency", "inventory", { ms: 200 }, 2_000, 4_000);
    const score = scoreHandMade([fault], localize(evidence, { topology: MESH_TOPOLOGY }), evidence);
    expect(score.baselines).toEqual({
      ruleBased: { ac1: 1, ac3: 1, avg5: 1, byKind: { latency: { ac1: 1, ac3: 1, avg5: 1 } } },
      random: { ac1: 0.25, ac3: 0.75, avg5: 0.7, byKind: { latency: { ac1: 0.25, ac3: 0.75, avg5: 0.7 } } },
    });
  });
});
