import { evaluate } from "../../../assertions/evaluate";
import type { AssertionResult } from "../../../assertions/evidence";
import { idsWith, withContract } from "../../support/foreign-shape";
import { scenarioFixture } from "../../support/evidence-fixture";

// What a mesh's contract or config does not promise is reported as not promised: neither passed nor failed, with
// a one-line reason naming what is missing and where it would be declared, and it compares nothing.

function result(results: readonly AssertionResult[], id: string): AssertionResult {
  const found = results.find((r) => r.id === id);
  if (!found) throw new Error(`no ${id} in ${results.map((r) => r.id).join(", ")}`);
  return found;
}

function expectNotPromised(results: readonly AssertionResult[], id: string, reason: string | RegExp): void {
  const r = result(results, id);
  expect({ id, status: r.status }).toEqual({ id, status: "not-promised" });
  expect(r.message).toMatch(/^not promised: /);
  if (typeof reason === "string") expect(r.message).toContain(reason);
  else expect(r.message).toMatch(reason);
  expect(r.observed.compared).toBe(0);
}

/** Judged results that read metrics (all but the driver-and-journal ones and the trace, probe and log families). */
const READS_METRICS = /^(metrics\.(?!unexplained-failures)|runtime\.|hygiene\.|correlation\.exemplars)/;

describe('a service without /metrics (ServiceInfo.instance "")', () => {
  test("is left out of every metric, runtime and hygiene comparison, and nothing fails for it", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    const payments = evidence.services.find((s) => s.name === "payments")!;
    payments.instance = "";
    const results = evaluate(evidence, expectations);
    expect(idsWith(results, "failed")).toEqual([]);
    expect(idsWith(results, "not-promised")).toEqual([]);
    expect(result(results, "runtime.up").message).toContain("all 3 services are up");
    expect(result(results, "metrics.hop-agreement").observed.leftOut).toEqual({
      "orders -> payments (grpc)": expect.stringContaining("payments exposes no /metrics"),
    });
    expect(result(results, "metrics.span-counter-agreement").observed.leftOut).toEqual({
      "payments grpc server": expect.stringContaining("payments exposes no /metrics"),
    });
  });

  test("with no service exposing /metrics, every assertion that reads metrics is not promised, naming them", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    for (const s of evidence.services) s.instance = "";
    const results = evaluate(evidence, expectations);
    const metricReaders = results.filter((r) => READS_METRICS.test(r.id)).map((r) => r.id);
    expect(metricReaders).toEqual(
      expect.arrayContaining(["metrics.edge-status-counts", "runtime.heap", "hygiene.naming", "correlation.exemplars"]),
    );
    // error-rate judges the driver and the traces; its counter part is what is not promised.
    for (const id of metricReaders.filter((id) => id !== "metrics.error-rate"))
      expectNotPromised(results, id, /expose no \/metrics \(services\.<name>\.metricsUrl\)|exposes no \/metrics/);
    expectNotPromised(results, "hygiene.contract-series", "gateway, orders, inventory, payments expose no /metrics");
    expect(result(results, "metrics.error-rate").status).toBe("passed");
    expect(JSON.stringify(result(results, "metrics.error-rate").observed)).toContain("payments exposes no /metrics");
    expect(idsWith(results, "failed")).toEqual([]);
    expect(idsWith(results, "passed")).toEqual(
      expect.arrayContaining(["traces.complete", "metrics.unexplained-failures", "probes.baseline-healthy"]),
    );
  });
});

describe("probes", () => {
  test("a service with no probe URL is left out; nothing is polled for it and nothing fails", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    evidence.services.find((s) => s.name === "inventory")!.probes = [];
    evidence.probes = evidence.probes.filter((p) => p.service !== "inventory");
    const results = evaluate(evidence, { ...expectations, families: ["probes"] });
    expect(idsWith(results, "failed")).toEqual([]);
    expect(String(result(results, "probes.baseline-healthy").expected.compared)).toContain("for 3 services");
  });

  test("with no service probed, liveness-stable and baseline-healthy are not promised", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    for (const s of evidence.services) s.probes = [];
    evidence.probes = [];
    const results = evaluate(evidence, { ...expectations, families: ["probes"] });
    expectNotPromised(
      results,
      "probes.liveness-stable",
      "no service has a /healthz probe (services.<name>.healthzUrl)",
    );
    expectNotPromised(results, "probes.baseline-healthy", "no service has a /readyz probe (services.<name>.readyzUrl)");
  });

  test("a service polled for /healthz only is judged on it, and left out of readiness", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    evidence.services.find((s) => s.name === "orders")!.probes = ["healthz"];
    evidence.probes = evidence.probes.filter((p) => !(p.service === "orders" && p.probe === "readyz"));
    const results = evaluate(evidence, { ...expectations, families: ["probes"] });
    expect(idsWith(results, "failed")).toEqual([]);
  });
});

describe("correlation", () => {
  test("no service whose structured log is read: correlation.logs is not promised", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    for (const s of evidence.services) s.structuredLog = false;
    evidence.logs = {};
    expectNotPromised(
      evaluate(evidence, { ...expectations, families: ["correlation"] }),
      "correlation.logs",
      "no service declares a readable structured log (services.<name>.logFile)",
    );
  });

  test("a service whose log is not read is left out of correlation.logs; the others are judged", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    evidence.services.find((s) => s.name === "payments")!.structuredLog = false;
    delete evidence.logs.payments;
    const logs = result(evaluate(evidence, { ...expectations, families: ["correlation"] }), "correlation.logs");
    expect(logs.status).toBe("passed");
  });

  test("a declared log file whose lines are missing still fails (not promised is not a pass over nothing)", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    evidence.logs = {};
    expect(result(evaluate(evidence, { ...expectations, families: ["correlation"] }), "correlation.logs").status).toBe(
      "failed",
    );
  });

  test("a log contract without a request-id key finds a request's lines by its trace id", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    withContract(evidence, (c) => delete c.logs!.requestId);
    const logs = result(evaluate(evidence, { ...expectations, families: ["correlation"] }), "correlation.logs");
    expect(logs.status).toBe("passed");
    expect(logs.observed.compared).toBeGreaterThan(0);
    // A line that lost its trace id is then a request's missing line.
    const line = evidence.logs.orders!.find((l) => typeof l.trace_id === "string")!;
    delete line.trace_id;
    const broken = result(evaluate(evidence, { ...expectations, families: ["correlation"] }), "correlation.logs");
    expect(broken.status).toBe("failed");
    expect(broken.message).toContain("orders wrote no log line with trace_id=");
  });

  test("no contract with an exemplar trace-id label: correlation.exemplars is not promised", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    withContract(evidence, (c) => delete c.exemplarTraceIdLabel);
    expectNotPromised(
      evaluate(evidence, { ...expectations, families: ["correlation"] }),
      "correlation.exemplars",
      'contract "node" names no exemplar trace-id label (exemplarTraceIdLabel)',
    );
  });
});

describe("optional parts of a contract", () => {
  test("no request-id span attribute: traces.request-id is not promised, the rest of the traces judged", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    withContract(evidence, (c) => {
      delete c.spans.requestId;
      delete c.requestIdHeader;
    });
    const results = evaluate(evidence, { ...expectations, families: ["traces"] });
    expectNotPromised(results, "traces.request-id", "contract spans.requestId");
    expect(idsWith(results, "failed")).toEqual([]);
  });

  test("no runtime metrics: the runtime family is not promised but for up, and hygiene asks for none", () => {
    const { evidence, expectations } = scenarioFixture("memory-pressure");
    withContract(evidence, (c) => {
      delete c.runtimeMetrics;
      delete c.runtime;
    });
    const results = evaluate(evidence, expectations);
    for (const id of ["runtime.heap", "runtime.gc", "runtime.rss", "runtime.cpu", "runtime.restarts"])
      expectNotPromised(
        results,
        id,
        'contract "node" of gateway, orders, inventory, payments names no runtime metrics',
      );
    expectNotPromised(results, "runtime.resource-faults", "names no runtime metrics (runtimeMetrics)");
    expect(results.map((r) => r.id)).not.toContain("runtime.event-loop");
    expect(result(results, "runtime.up").status).toBe("passed");
    expect(idsWith(results, "failed")).toEqual([]);
  });

  test("no client metrics: hop agreement is not promised, every server-side comparison still judged", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    withContract(evidence, (c) => {
      delete c.httpClientRequests;
      delete c.httpClientDuration;
      delete c.grpcClientHandled;
      delete c.grpcClientHandling;
    });
    const results = evaluate(evidence, expectations);
    expectNotPromised(results, "metrics.hop-agreement", 'contract "node" of gateway names no httpClientRequests');
    expect(idsWith(results, "failed")).toEqual([]);
    const spans = result(results, "metrics.span-counter-agreement");
    expect(spans.status).toBe("passed");
    expect(Object.keys(spans.observed.leftOut as object).sort()).toEqual([
      "gateway grpc client",
      "gateway http client",
      "orders grpc client",
    ]);
    // The error table's client layers are left out; its server layers are judged.
    expect(result(results, "metrics.status-labels").status).toBe("passed");
  });

  test("failing faults and no error table: metrics.status-labels is not promised (today it failed over nothing)", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    delete expectations.metrics!.errorSurfaces;
    expectNotPromised(
      evaluate(evidence, { ...expectations, families: ["metrics"] }),
      "metrics.status-labels",
      "the mesh declares no error table: services.gateway.errors in its config",
    );
  });
});
