import { DEFAULT_CONTRACT } from "../../../assertions/contract";
import { assertTraces, TRACE_ASSERTIONS } from "../../../assertions/trace-assertions";
import type { Expectations } from "../../../assertions/expectations";
import type { Evidence } from "../../../assertions/evidence";
import { meshproofMatchers } from "../../../assertions/matchers";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/mesh";
import { buildEvidence, PAYMENTS_UNAVAILABLE, plainPlans } from "../../fixtures/mesh-evidence";

expect.extend(meshproofMatchers);

const expectations: Expectations = { families: ["traces"], topology: MESH_TOPOLOGY };

function result(evidence: Evidence, id: string, exp: Expectations = expectations) {
  const found = assertTraces(evidence, exp).find((r) => r.id === id);
  if (!found) throw new Error(`no result ${id}`);
  return found;
}

function checkoutTrace(evidence: Evidence) {
  const request = evidence.requests.find((r) => r.route === "POST /api/checkout")!;
  return { request, trace: evidence.traces[request.traceId]! };
}

describe("assertTraces", () => {
  it("passes complete, well-formed traces", () => {
    const evidence = buildEvidence();
    const results = assertTraces(evidence, expectations);
    expect(results).toPassAssertions();
    expect(results.map((r) => r.id)).toEqual(
      Object.values(TRACE_ASSERTIONS).filter((id) => id !== "traces.error-path"),
    );
    const { trace, request } = checkoutTrace(evidence);
    expect(trace).toSpanServices(["gateway", "orders", "inventory", "payments"]);
    expect(trace).toHaveNoOrphanSpans(request.parentSpanId);
    expect(trace).toHaveNoOrphanSpans();
  });

  it("fails traces.complete for a trace never found, telling it apart from one never fetched", () => {
    const evidence = buildEvidence();
    const [lost, unfetched] = evidence.requests;
    evidence.traces[lost!.traceId] = undefined;
    delete evidence.traces[unfetched!.traceId];
    const complete = result(evidence, TRACE_ASSERTIONS.complete);
    expect(complete.status).toBe("failed");
    expect(complete.message).toContain(lost!.traceId);
    expect(complete.message).toContain("never found in the trace store");
    expect(complete.message).toContain("never fetched");
    expect(complete.observed).toMatchObject({ neverFound: 1, notFetched: 1, found: evidence.requests.length - 2 });
    expect(complete.evidence?.requestIds).toContain(lost!.id);
  });

  it("fails traces.no-orphans for a span whose parent is not in the trace", () => {
    const evidence = buildEvidence();
    const { trace } = checkoutTrace(evidence);
    const payments = trace.spans.find((s) => s.service === "payments")!;
    payments.parentSpanId = "ffffffffffffffff";
    expect(trace).not.toHaveNoOrphanSpans();
    const orphans = result(evidence, TRACE_ASSERTIONS.noOrphans);
    expect(orphans.status).toBe("failed");
    expect(orphans.message).toContain(trace.traceId);
    expect(orphans.message).toContain("ffffffffffffffff");
  });

  it("fails traces.single-root when context is dropped and a service starts its own root", () => {
    const evidence = buildEvidence();
    const { trace } = checkoutTrace(evidence);
    trace.spans.find((s) => s.service === "orders" && s.kind === "server")!.parentSpanId = undefined;
    const roots = result(evidence, TRACE_ASSERTIONS.singleRoot);
    expect(roots.status).toBe("failed");
    expect(roots.message).toContain(`2 roots`);
    expect(roots.message).toContain(trace.traceId);
  });

  it("fails traces.hop-graph and traces.client-server-pairs for a missing hop", () => {
    const evidence = buildEvidence();
    const { trace } = checkoutTrace(evidence);
    const inventory = trace.spans.find((s) => s.service === "inventory")!;
    trace.spans = trace.spans.filter((s) => s !== inventory);
    const hops = result(evidence, TRACE_ASSERTIONS.hopGraph);
    expect(hops.status).toBe("failed");
    expect(hops.message).toContain("missing hop orders->inventory (grpc)");
    expect(hops.message).toContain(trace.traceId);
    const pairs = result(evidence, TRACE_ASSERTIONS.clientServerPairs);
    expect(pairs.status).toBe("failed");
    expect(pairs.message).toContain("0 server children");
  });

  it("fails traces.hop-graph for a hop the route does not take", () => {
    const evidence = buildEvidence();
    const request = evidence.requests.find((r) => r.route.startsWith("GET"))!;
    const trace = evidence.traces[request.traceId]!;
    const gateway = trace.spans.find((s) => s.kind === "server")!;
    trace.spans.push({
      ...gateway,
      spanId: "0000000000000bad",
      parentSpanId: gateway.spanId,
      kind: "client",
      name: "GET",
      attributes: { "db.system": "redis" },
    });
    const hops = result(evidence, TRACE_ASSERTIONS.hopGraph);
    expect(hops.status).toBe("failed");
    expect(hops.message).toContain("unexpected hop gateway->redis (redis)");
  });

  it("fails traces.request-id for a span carrying another request's id", () => {
    const evidence = buildEvidence();
    const { trace, request } = checkoutTrace(evidence);
    trace.spans.find((s) => s.service === "payments")!.attributes[DEFAULT_CONTRACT.requestIdAttribute] = "req-other";
    const ids = result(evidence, TRACE_ASSERTIONS.requestId);
    expect(ids.status).toBe("failed");
    expect(ids.message).toContain(`"req-other", the driver sent "${request.id}"`);
    expect(ids.message).toContain(trace.traceId);
  });

  it("fails traces.request-id when a server span lacks it, with the attribute key from the expectations", () => {
    const evidence = buildEvidence();
    const custom = { ...expectations, traces: { requestIdAttribute: "app.request_id" } };
    const ids = result(evidence, TRACE_ASSERTIONS.requestId, custom);
    expect(ids.status).toBe("failed");
    expect(ids.message).toContain("has app.request_id none");
  });

  it("fails traces.no-error-on-success for an ERROR span in a 200 request", () => {
    const evidence = buildEvidence();
    const { trace } = checkoutTrace(evidence);
    trace.spans.find((s) => s.service === "inventory")!.status = "error";
    const errors = result(evidence, TRACE_ASSERTIONS.noErrorOnSuccess);
    expect(errors.status).toBe("failed");
    expect(errors.message).toContain(trace.traceId);
    expect(errors.message).toContain("inventory server span");
  });

  it("fails traces.semconv for a gRPC span without its status code", () => {
    const evidence = buildEvidence();
    const { trace } = checkoutTrace(evidence);
    delete trace.spans.find((s) => s.service === "payments")!.attributes["rpc.grpc.status_code"];
    const semconv = result(evidence, TRACE_ASSERTIONS.semconv);
    expect(semconv.status).toBe("failed");
    expect(semconv.message).toContain("lacks rpc.grpc.status_code");
  });

  describe("under faults (error path)", () => {
    const failure = PAYMENTS_UNAVAILABLE;
    const plans = plainPlans(10).map((p, i) => (i === 2 || i === 6 ? { ...p, failure } : p));
    const errorPath = [
      { service: "payments", kind: "server" as const },
      { service: "orders", kind: "client" as const, peer: "payments" },
      { service: "orders", kind: "server" as const },
      { service: "gateway", kind: "client" as const, peer: "orders" },
      { service: "gateway", kind: "server" as const },
    ];
    const faulted: Expectations = { ...expectations, traces: { errorPath } };

    it("passes when ERROR sits exactly on the failure path and failed traces are complete", () => {
      expect(assertTraces(buildEvidence({ plans }), faulted)).toPassAssertions();
    });

    it("fails traces.error-path for an ERROR span off the path", () => {
      const evidence = buildEvidence({ plans });
      const failed = evidence.requests[2]!;
      evidence.traces[failed.traceId]!.spans.find((s) => s.service === "inventory")!.status = "error";
      const path = result(evidence, TRACE_ASSERTIONS.errorPath, faulted);
      expect(path.status).toBe("failed");
      expect(path.message).toContain("ERROR off the failure path on inventory server span");
      expect(path.message).toContain(failed.traceId);
    });

    it("fails traces.error-path when the error traces do not match the driver's failures", () => {
      const evidence = buildEvidence({ plans });
      for (const span of evidence.traces[evidence.requests[6]!.traceId]!.spans) span.status = "unset";
      const path = result(evidence, TRACE_ASSERTIONS.errorPath, faulted);
      expect(path.status).toBe("failed");
      expect(path.message).toContain("1 traces have ERROR spans but the driver saw 2 failures");
    });
  });
});
