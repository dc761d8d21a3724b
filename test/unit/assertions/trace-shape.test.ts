import type { FaultRecord, RequestRecord } from "../../../assertions/evidence";
import { reconnectGraceMs } from "../../../assertions/faults";
import { expectedSpans, explainFailure, spanCountRange } from "../../../assertions/trace-shape";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/sample-topology";

const checkout = MESH_TOPOLOGY["POST /api/checkout"]!;
const request = (startMs: number, status: number, route = "POST /api/checkout"): RequestRecord => ({
  id: "r",
  traceId: "t",
  route,
  startMs,
  endMs: startMs + 20,
  status,
});
const fault = (kind: string, target: string, appliedAtMs: number, revertedAtMs: number): FaultRecord => ({
  id: "f",
  kind,
  target,
  params: {},
  appliedAtMs,
  revertedAtMs,
});

describe("explaining a failure", () => {
  const charge = fault("error", "payments.Charge", 1_000, 2_000);
  test("by a fault on the request's route, inside its window", () => {
    expect(explainFailure(request(1_500, 502), checkout, [charge], 5_000, "gateway")).toEqual({
      fault: charge,
      hop: 2,
      inFlight: false,
    });
    // Under way when the fault was applied: its call may have reached the server before the fault hit it.
    expect(explainFailure(request(990, 502), checkout, [charge], 5_000, "gateway")?.inFlight).toBe(true);
  });
  test("not by a fault outside the window, or off the route, or of a kind that fails nothing", () => {
    expect(explainFailure(request(2_500, 502), checkout, [charge], 5_000, "gateway")).toBeUndefined();
    const product = MESH_TOPOLOGY["GET /api/products/:sku"]!;
    expect(
      explainFailure(request(1_500, 502, "GET /api/products/:sku"), product, [charge], 5_000, "gateway"),
    ).toBeUndefined();
    const slow = fault("latency", "payments.Charge", 1_000, 2_000);
    expect(explainFailure(request(1_500, 502), checkout, [slow], 5_000, "gateway")).toBeUndefined();
  });
  test("a link fault keeps explaining failures for its grace after the revert", () => {
    const down = fault("link-down", "orders-redis", 1_000, 2_000);
    expect(explainFailure(request(2_500, 502), checkout, [down], 5_000, "gateway")).toEqual({
      fault: down,
      hop: 3,
      inFlight: false,
    });
    expect(explainFailure(request(4_500, 502), checkout, [down], 5_000, "gateway")).toBeUndefined();
  });
  test("a gRPC caller's reconnect backoff after a long link fault still explains its failures; an HTTP hop's does not", () => {
    // gRPC's backoff (1 s, x1.6, +-20% jitter): after 3 s down the next attempt is at most 3.07 s away, after 12 s 7.86 s.
    expect([0, 3_000, 12_000].map(reconnectGraceMs)).toEqual([1_200, 3_072, 7_864]);
    const reset = fault("link-reset", "orders-payments", 1_000, 13_000);
    expect(explainFailure(request(20_000, 502), checkout, [reset], 30_000, "gateway")?.hop).toBe(2);
    expect(explainFailure(request(22_000, 502), checkout, [reset], 30_000, "gateway")).toBeUndefined();
    const resetHttp = fault("link-reset", "gateway-orders", 1_000, 13_000);
    expect(explainFailure(request(16_000, 502), checkout, [resetHttp], 30_000, "gateway")).toBeUndefined();
    expect(explainFailure(request(14_500, 502), checkout, [resetHttp], 30_000, "gateway")?.hop).toBe(0);
  });
});

describe("expected spans", () => {
  test("a success holds every hop: edge + 3 client/server pairs + the redis client", () => {
    expect(spanCountRange(expectedSpans(checkout, "gateway"))).toEqual({ min: 8, max: 8 });
  });
  test("a failure at payments holds the hops before it, payments' server span, and nothing after", () => {
    const spans = expectedSpans(checkout, "gateway", {
      fault: fault("error", "payments.Charge", 0, 1),
      hop: 2,
      inFlight: false,
    });
    expect(spans.map((s) => `${s.service} ${s.kind} ${s.error ? "ERROR" : "ok"}`)).toEqual([
      "gateway server ERROR",
      "gateway client ERROR",
      "orders server ERROR",
      "orders client ok",
      "inventory server ok",
      "orders client ERROR",
      "payments server ERROR",
    ]);
  });
  test("a failure on a down link to redis may lack the redis client span", () => {
    const spans = expectedSpans(checkout, "gateway", {
      fault: fault("link-down", "orders-redis", 0, 1),
      hop: 3,
      inFlight: false,
    });
    expect(spanCountRange(spans)).toEqual({ min: 7, max: 8 });
  });
  test("a down link to a gRPC service leaves no server span on it", () => {
    const down = fault("link-down", "orders-payments", 0, 1);
    const spans = expectedSpans(checkout, "gateway", { fault: down, hop: 2, inFlight: false });
    expect(spans.some((s) => s.service === "payments")).toBe(false);
    expect(spanCountRange(spans)).toEqual({ min: 6, max: 6 });
    // A call under way when the link went down may have reached payments (its answer lost): optional, and either OK
    // or ERROR (a server that sees its caller's deadline pass ends the call DEADLINE_EXCEEDED, an error on a server).
    const cut = expectedSpans(checkout, "gateway", { fault: down, hop: 2, inFlight: true });
    expect(cut.filter((s) => s.service === "payments")).toEqual([
      expect.objectContaining({ kind: "server", required: false, error: undefined }),
    ]);
    expect(spanCountRange(cut)).toEqual({ min: 6, max: 7 });
  });
});
