import { binomialAcceptance } from "../../../assertions/binomial";
import type { Evidence } from "../../../assertions/evidence";
import type { Expectations } from "../../../assertions/expectations";
import { meshproofMatchers } from "../../../assertions/matchers";
import { assertMetrics, METRIC_ASSERTIONS } from "../../../assertions/metric-assertions";
import { checkoutErrorLayers, MESH_TOPOLOGY } from "../../../scenarios/lib/mesh";
import { inventoryLatencyRun, paymentsErrorsRun } from "../../fixtures/fault-runs";
import { buildEvidence } from "../../fixtures/mesh-evidence";

expect.extend(meshproofMatchers);

const expectations: Expectations = {
  families: ["metrics"],
  topology: MESH_TOPOLOGY,
  metrics: {
    errorSurfaces: [
      {
        fault: "payments.Charge",
        layers: checkoutErrorLayers({ service: "payments", method: "Charge", grpcCode: "UNAVAILABLE" }),
      },
    ],
  },
};

function result(evidence: Evidence, id: string, exp: Expectations = expectations) {
  return assertMetrics(evidence, exp).find((r) => r.id === id)!;
}

/** The end sample of a service's series with these labels. */
function endSample(evidence: Evidence, service: string, name: string, labels: Record<string, string>) {
  const instance = evidence.services.find((s) => s.name === service)!.instance;
  const found = evidence.metrics.end.find(
    (s) =>
      s.name === name && s.labels.instance === instance && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (!found) throw new Error(`no ${name} ${JSON.stringify(labels)} on ${service}`);
  return found;
}

describe("assertMetrics", () => {
  it("passes a fault-free run and the payments-errors run where every counter equals ground truth", () => {
    expect(assertMetrics(buildEvidence(), { families: ["metrics"], topology: MESH_TOPOLOGY })).toPassAssertions();
    const results = assertMetrics(paymentsErrorsRun(), expectations);
    expect(results).toPassAssertions();
    expect(results.find((r) => r.id === METRIC_ASSERTIONS.errorRate)!.message).toMatch(
      /payments\.Charge: 2 UNAVAILABLE of 10 calls \(20\.0%\) in the fault window; injected 20\.0%, 99\.9% binomial acceptance \[0, \d\] of 10/,
    );
  });

  it("fails metrics.edge-status-counts when the gateway counter differs from the driver", () => {
    const evidence = paymentsErrorsRun();
    endSample(evidence, "gateway", "http_server_requests_total", { status_code: "502" }).value += 1;
    const edge = result(evidence, METRIC_ASSERTIONS.edgeStatusCounts);
    expect(edge.status).toBe("failed");
    expect(edge.message).toContain(
      "POST /api/checkout 502: driver saw 2, gateway http_server_requests_total rose by 3",
    );
    expect(edge.evidence?.traceIds).toHaveLength(1);
  });

  it("fails metrics.hop-agreement when client and server disagree on a code, or the fault counter on the errors", () => {
    const evidence = paymentsErrorsRun();
    endSample(evidence, "orders", "grpc_client_handled_total", { grpc_code: "UNAVAILABLE" }).value -= 1;
    const hops = result(evidence, METRIC_ASSERTIONS.hopAgreement);
    expect(hops.status).toBe("failed");
    expect(hops.message).toContain(
      "UNAVAILABLE: payments grpc_server_handled_total +2, orders grpc_client_handled_total +1",
    );

    const injected = paymentsErrorsRun();
    endSample(injected, "payments", "meshproof_faults_injected_total", {}).value = 5;
    expect(result(injected, METRIC_ASSERTIONS.hopAgreement).message).toContain(
      "payments.Charge: meshproof_faults_injected_total +5 but payments answered UNAVAILABLE 2 times",
    );
  });

  it("fails metrics.status-labels for errors labelled 200 (status-label-200) and for a generic 500", () => {
    const labelled200 = paymentsErrorsRun();
    endSample(labelled200, "orders", "http_server_requests_total", { status_code: "503" }).labels.status_code = "200";
    const as200 = result(labelled200, METRIC_ASSERTIONS.statusLabels);
    expect(as200.status).toBe("failed");
    expect(as200.message).toContain("orders http_server_requests_total rose by 0 on 503, expected 2");

    const generic = paymentsErrorsRun();
    endSample(generic, "gateway", "http_server_requests_total", { status_code: "502" }).labels.status_code = "500";
    expect(result(generic, METRIC_ASSERTIONS.statusLabels).message).toContain(
      "gateway http_server_requests_total rose by 2 on 500, which the error mapping does not give",
    );
  });

  it("fails metrics.histogram-count when a histogram's _count differs from its counter", () => {
    const evidence = buildEvidence();
    endSample(evidence, "inventory", "grpc_server_handling_seconds_count", { grpc_method: "Reserve" }).value += 4;
    const counts = result(evidence, METRIC_ASSERTIONS.histogramCount);
    expect(counts.status).toBe("failed");
    expect(counts.message).toMatch(
      /inventory \{.*grpc_method=Reserve.*\}: grpc_server_handled_total 5, grpc_server_handling_seconds_count 9/,
    );
  });

  it("fails metrics.error-rate outside the binomial bound, stating the bound, and without the window snapshots", () => {
    const evidence = paymentsErrorsRun();
    evidence.faults[0]!.params.rate = 0.9;
    const rate = result(evidence, METRIC_ASSERTIONS.errorRate);
    expect(rate.status).toBe("failed");
    expect(rate.message).toMatch(
      /2 UNAVAILABLE of 10 calls .* injected 90\.0%, 99\.9% binomial acceptance \[[4-6], 10\] of 10/,
    );

    const unsnapped = paymentsErrorsRun();
    delete unsnapped.metrics.at["fault:f1:reverted"];
    expect(result(unsnapped, METRIC_ASSERTIONS.errorRate).message).toContain("metrics.at lacks fault:f1:reverted");
  });

  it("passes metrics.latency-shift when Reserve turns slow in the window only, fails when it is slow before", () => {
    const shifted = result(inventoryLatencyRun(), METRIC_ASSERTIONS.latencyShift, {
      families: ["metrics"],
      topology: MESH_TOPOLOGY,
    });
    expect(shifted.status).toBe("passed");
    expect(shifted.observed).toMatchObject({
      "inventory.Reserve": { thresholdSeconds: 0.25, before: { slow: 0 }, window: { slow: 10, calls: 10 } },
    });

    const always = result(inventoryLatencyRun(true), METRIC_ASSERTIONS.latencyShift, {
      families: ["metrics"],
      topology: MESH_TOPOLOGY,
    });
    expect(always.status).toBe("failed");
    expect(always.message).toContain("inventory.Reserve: 5 of 5 calls above 0.25 s before the fault");
  });
});

describe("binomialAcceptance", () => {
  it("gives the exact two-sided interval", () => {
    expect(binomialAcceptance(100, 0.2, 0.95)).toEqual({ low: 12, high: 28 });
    expect(binomialAcceptance(10, 0.5, 0.95)).toEqual({ low: 2, high: 8 });
    expect(binomialAcceptance(0, 0.2, 0.95)).toEqual({ low: 0, high: 0 });
  });
});
