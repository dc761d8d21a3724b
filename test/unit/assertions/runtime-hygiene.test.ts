import { assertHygiene, HYGIENE_ASSERTIONS } from "../../../assertions/hygiene-assertions";
import { assertRuntime, RUNTIME_ASSERTIONS } from "../../../assertions/runtime-assertions";
import type { Evidence } from "../../../assertions/evidence";
import type { Expectations } from "../../../assertions/expectations";
import { meshproofMatchers } from "../../../assertions/matchers";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/mesh";
import { buildEvidence } from "../../fixtures/mesh-evidence";

expect.extend(meshproofMatchers);

const expectations: Expectations = { families: ["runtime", "hygiene"], topology: MESH_TOPOLOGY };
const forService = (evidence: Evidence, service: string) => evidence.services.find((s) => s.name === service)!.instance;

describe("assertRuntime", () => {
  it("passes sane runtime metrics of every service", () => {
    expect(assertRuntime(buildEvidence(), expectations)).toPassAssertions();
  });

  it("fails runtime.up for a target that is down", () => {
    const evidence = buildEvidence();
    const up = evidence.metrics.end.find(
      (s) => s.name === "up" && s.labels.instance === forService(evidence, "orders"),
    )!;
    up.value = 0;
    const results = assertRuntime(evidence, expectations);
    expect(results).toFailAssertion(RUNTIME_ASSERTIONS.up);
    expect(results.find((r) => r.id === RUNTIME_ASSERTIONS.up)!.message).toContain("orders: up is 0");
  });

  it("fails every runtime check for a service without runtime metrics (no-runtime-metrics)", () => {
    const evidence = buildEvidence();
    const payments = forService(evidence, "payments");
    const keep = (s: { name: string; labels: Record<string, string> }) =>
      s.labels.instance !== payments || s.name === "up";
    evidence.metrics.end = evidence.metrics.end.filter(keep);
    evidence.metrics.range = evidence.metrics.range.filter(keep);
    const results = assertRuntime(evidence, expectations);
    for (const id of ["heap", "gc", "eventLoop", "rss", "cpu"] as const)
      expect(results).toFailAssertion(RUNTIME_ASSERTIONS[id]);
    expect(results.find((r) => r.id === RUNTIME_ASSERTIONS.gc)!.message).toContain("payments");
  });

  it("fails runtime.heap when used exceeds total or the gauge never moves", () => {
    const evidence = buildEvidence();
    evidence.metrics.end.find((s) => s.name === "nodejs_heap_size_used_bytes")!.value = 50e6;
    for (const series of evidence.metrics.range) series.values = series.values.map(([t]) => [t, 1]);
    const heap = assertRuntime(evidence, expectations).find((r) => r.id === RUNTIME_ASSERTIONS.heap)!;
    expect(heap.status).toBe("failed");
    expect(heap.message).toContain("is not within (0, total");
    expect(heap.evidence?.sample).toEqual(
      expect.arrayContaining([expect.stringContaining("stayed at 1 over the run")]),
    );
  });
});

describe("assertHygiene", () => {
  it("passes the mesh's metrics", () => {
    expect(assertHygiene(buildEvidence(), expectations)).toPassAssertions();
  });

  it("fails hygiene.naming for non-base units and counters without _total", () => {
    const evidence = buildEvidence();
    const labels = { instance: forService(evidence, "orders"), job: "mesh" };
    evidence.metrics.end.push({ name: "orders_checkout_duration_milliseconds", labels, value: 3 });
    evidence.metrics.end.push({ name: "orders_checkouts", labels, value: 3 });
    evidence.metrics.metadata = { orders_checkouts: { type: "counter" } };
    const naming = assertHygiene(evidence, expectations).find((r) => r.id === HYGIENE_ASSERTIONS.naming)!;
    expect(naming.status).toBe("failed");
    expect(naming.message).toContain(`orders_checkout_duration_milliseconds uses the non-base unit "milliseconds"`);
    expect(naming.message).toContain("counter orders_checkouts does not end in _total");
  });

  it("fails hygiene.cardinality for a request-id label, an id-like value and too many values", () => {
    const evidence = buildEvidence();
    const instance = forService(evidence, "gateway");
    const request = evidence.requests[0]!;
    evidence.metrics.end.push({ name: "gateway_hits_total", labels: { instance, request_id: request.id }, value: 1 });
    evidence.metrics.end.push({ name: "gateway_users_total", labels: { instance, who: request.traceId }, value: 1 });
    for (let i = 0; i < 60; i++)
      evidence.metrics.end.push({
        name: "gateway_paths_total",
        labels: { instance, path: `/api/products/SKU-${i}` },
        value: 1,
      });
    const results = assertHygiene(evidence, { ...expectations, hygiene: { maxLabelValues: 50 } });
    const cardinality = results.find((r) => r.id === HYGIENE_ASSERTIONS.cardinality)!;
    expect(cardinality.status).toBe("failed");
    const sample = cardinality.evidence?.sample as string[];
    expect(sample).toEqual(
      expect.arrayContaining([
        "gateway_hits_total{request_id} is a label that identifies a request or user",
        `gateway_users_total{who} carries "${request.traceId}", an id the driver sent`,
        "gateway_paths_total{path} takes 60 distinct values (> 50)",
      ]),
    );
  });

  it("fails hygiene.contract-series for a service missing a series its hops require", () => {
    const evidence = buildEvidence();
    const orders = forService(evidence, "orders");
    evidence.metrics.end = evidence.metrics.end.filter(
      (s) => !(s.labels.instance === orders && s.name.startsWith("grpc_client_handling_seconds")),
    );
    const series = assertHygiene(evidence, expectations).find((r) => r.id === HYGIENE_ASSERTIONS.contractSeries)!;
    expect(series.status).toBe("failed");
    expect(series.message).toContain("orders (127.0.0.1:9102) exposes no grpc_client_handling_seconds_bucket");
  });
});
