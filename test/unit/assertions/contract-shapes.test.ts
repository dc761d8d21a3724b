import { BUILTIN_CONTRACTS, parseContract } from "../../../assertions/contract";
import { evaluate } from "../../../assertions/evaluate";
import type { AssertionResult, Evidence } from "../../../assertions/evidence";
import { requiredSeries } from "../../../assertions/hygiene-assertions";
import { failedOnServer, grpcCodeName, statusClass } from "../../../assertions/metric-labels";
import { select } from "../../../assertions/metric-query";
import { lintExposition } from "../../../assertions/promlint";
import { resolveContract } from "../../../harness/mesh/external-mesh";
import {
  asCamelCase,
  asClass,
  dropLabel,
  idsWith,
  mapLabel,
  relabel,
  statuses,
  withContract,
} from "../../support/foreign-shape";
import { scenarioFixture } from "../../support/evidence-fixture";

// Contracts that fit services the judge did not write: the same recorded calls, rewritten into another mesh's
// shape and judged through a contract that says so, must get the verdicts the sample shape gets.

const HTTP = (name: string) => name.startsWith("http_");
const GRPC = (name: string) => name.startsWith("grpc_");
/** Scenarios whose error paths cross every kind of hop: HTTP 5xx at the edge, gRPC codes at the leaves. */
const FAULTED = ["payments-errors", "process-kill", "link-timeout"];

function find(results: readonly AssertionResult[], id: string): AssertionResult {
  return results.find((r) => r.id === id)!;
}

describe("no method label (labels.httpMethod absent)", () => {
  function methodless(name: string) {
    const { evidence, expectations } = scenarioFixture(name);
    withContract(evidence, (c) => {
      delete c.labels.httpMethod;
      for (const m of [c.httpServerRequests, c.httpServerDuration, c.httpClientRequests!, c.httpClientDuration!])
        m.labelKeys = m.labelKeys.filter((k) => k !== "method");
    });
    relabel(evidence, dropLabel("method", HTTP));
    return { evidence, expectations };
  }

  test.each(["baseline", ...FAULTED])("%s: operations are named by route on both sides, nothing fails", (name) => {
    const { evidence, expectations } = methodless(name);
    const results = evaluate(evidence, expectations);
    expect(idsWith(results, "failed")).toEqual([]);
    expect(JSON.stringify(results)).not.toContain("undefined");
    expect(find(results, "metrics.edge-status-counts").observed.counter).toEqual(
      expect.objectContaining({ "/api/checkout|201": expect.any(Number) }),
    );
  });

  test("a count moved to another route is still found", () => {
    const { evidence, expectations } = methodless("baseline");
    const gateway = evidence.services.find((s) => s.name === "gateway")!;
    const checkout = select(evidence.metrics.end, {
      name: "http_server_requests_total",
      where: { instance: gateway.instance, route: "/api/checkout", status_code: "201" },
    })[0]!;
    checkout.value -= 1;
    evidence.metrics.end.push({ ...checkout, labels: { ...checkout.labels, route: "/api/orders/:id" }, value: 1 });
    const edge = find(evaluate(evidence, { ...expectations, families: ["metrics"] }), "metrics.edge-status-counts");
    expect(edge.status).toBe("failed");
    expect(edge.message).toContain("/api/checkout 201: driver saw");
  });
});

describe("series lacking a declared label key", () => {
  test("are named by hygiene.contract-labels (key, series, service) and merge with nothing", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    // The contract still says "method": the series lost it (what made "undefined /dispatch" before).
    relabel(evidence, dropLabel("method", HTTP));
    const results = evaluate(evidence, expectations);
    const labels = results[0]!;
    expect(labels.id).toBe("hygiene.contract-labels");
    expect(labels.status).toBe("failed");
    expect(labels.message).toMatch(/gateway: \d+ of \d+ http_server_requests_total series lack "method"/);
    expect(labels.message).toContain('contract "node" httpServerRequests');
    expect(JSON.stringify(results)).not.toMatch(/undefined [/a-z]/);
  });

  test("one series without its route is left out of every tally and told once", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    const orders = evidence.services.find((s) => s.name === "orders")!;
    const lacking = (s: { name: string; labels: Record<string, string> }) =>
      s.name === "http_server_requests_total" &&
      s.labels.instance === orders.instance &&
      s.labels.route === "/orders/:id" &&
      s.labels.status_code === "404";
    for (const list of [evidence.metrics.start, evidence.metrics.end])
      for (const s of list.filter(lacking)) delete s.labels.route;
    const results = evaluate(evidence, expectations);
    expect(idsWith(results, "failed")).toEqual(["hygiene.contract-labels"]);
    expect(results[0]!.message).toContain('orders: 1 of 11 http_server_requests_total series lack "route"');
    expect(results[0]!.message).toContain("e.g. http_server_requests_total{instance=");
  });

  test("pass when every series carries its keys, saying how many it checked", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    const labels = evaluate(evidence, expectations)[0]!;
    expect(labels.id).toBe("hygiene.contract-labels");
    expect(labels.status).toBe("passed");
    expect(labels.observed.compared).toBeGreaterThan(1000);
  });
});

describe('status classes (MetricContract.status "class")', () => {
  function classes(name: string) {
    const { evidence, expectations } = scenarioFixture(name);
    withContract(evidence, (c) => {
      for (const m of [c.httpServerRequests, c.httpServerDuration, c.httpClientRequests!, c.httpClientDuration!])
        m.status = "class";
    });
    relabel(evidence, mapLabel("status_code", HTTP, asClass));
    return { evidence, expectations };
  }

  test.each(["baseline", ...FAULTED, "redis-outage"])("%s: class-labelled samples pass as the codes did", (name) => {
    const { evidence, expectations } = classes(name);
    const original = scenarioFixture(name);
    const results = evaluate(evidence, expectations);
    expect(statuses(results)).toEqual(statuses(evaluate(original.evidence, original.expectations)));
    expect(JSON.stringify(find(results, "metrics.edge-status-counts").observed)).toContain("|2xx");
  });

  test("one call moved from 2xx to 5xx fails metrics.edge-status-counts", () => {
    const { evidence, expectations } = classes("baseline");
    const gateway = evidence.services.find((s) => s.name === "gateway")!;
    const ok = select(evidence.metrics.end, {
      name: "http_server_requests_total",
      where: { instance: gateway.instance, route: "/api/checkout", status_code: "2xx" },
    })[0]!;
    ok.value -= 1;
    evidence.metrics.end.push({ ...ok, labels: { ...ok.labels, status_code: "5xx" }, value: 1 });
    const edge = find(evaluate(evidence, { ...expectations, families: ["metrics"] }), "metrics.edge-status-counts");
    expect(edge.status).toBe("failed");
    expect(edge.message).toContain("POST /api/checkout 5xx: driver saw 0");
  });

  test("the same class labels under a code contract are not what it promises", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    relabel(evidence, mapLabel("status_code", HTTP, asClass));
    expect(idsWith(evaluate(evidence, expectations), "failed")).toContain("metrics.edge-status-counts");
  });

  test("statusClass leaves no-response and classes as they are", () => {
    expect(["200", "201", "404", "502", "0", "5xx"].map(statusClass)).toEqual(["2xx", "2xx", "4xx", "5xx", "0", "5xx"]);
  });
});

describe('failed or not (MetricContract.status "error", HotROD\'s `error` label)', () => {
  function errorForm(name: string) {
    const { evidence, expectations } = scenarioFixture(name);
    withContract(evidence, (c) => {
      for (const m of [c.httpServerRequests, c.httpServerDuration, c.httpClientRequests!, c.httpClientDuration!])
        m.status = "error";
    });
    relabel(
      evidence,
      mapLabel("status_code", HTTP, (code) => String(failedOnServer("http", code))),
    );
    return { evidence, expectations };
  }

  test.each(["baseline", ...FAULTED])("%s: true/false samples pass as the codes did", (name) => {
    const { evidence, expectations } = errorForm(name);
    const original = scenarioFixture(name);
    const results = evaluate(evidence, expectations);
    expect(statuses(results)).toEqual(statuses(evaluate(original.evidence, original.expectations)));
    expect(JSON.stringify(find(results, "metrics.edge-status-counts").observed)).toContain("|false");
  });

  test("one call moved from false to true fails metrics.edge-status-counts", () => {
    const { evidence, expectations } = errorForm("baseline");
    const gateway = evidence.services.find((s) => s.name === "gateway")!;
    const ok = select(evidence.metrics.end, {
      name: "http_server_requests_total",
      where: { instance: gateway.instance, route: "/api/checkout", status_code: "false" },
    })[0]!;
    ok.value -= 1;
    evidence.metrics.end.push({ ...ok, labels: { ...ok.labels, status_code: "true" }, value: 1 });
    const edge = find(evaluate(evidence, { ...expectations, families: ["metrics"] }), "metrics.edge-status-counts");
    expect(edge.status).toBe("failed");
    expect(edge.message).toContain("POST /api/checkout true: driver saw 0");
  });

  test("a server fails a call on 5xx, no response and server-error gRPC codes only", () => {
    expect(
      ["200", "404", "499", "500", "503", "0", "5xx", "true", "false"].map((c) => failedOnServer("http", c)),
    ).toEqual([false, false, false, true, true, true, true, true, false]);
    expect(
      ["OK", "NOT_FOUND", "CANCELLED", "UNKNOWN", "UNAVAILABLE", "DEADLINE_EXCEEDED"].map((c) =>
        failedOnServer("grpc", c),
      ),
    ).toEqual([false, false, false, true, true, true]);
  });
});

describe("gRPC code spelling", () => {
  test.each(FAULTED)("%s: CamelCase labels (Go's codes.Code.String()) get the UPPER_SNAKE verdicts", (name) => {
    const { evidence, expectations } = scenarioFixture(name);
    withContract(evidence, (c) => (c.grpcCodeSpelling = "CamelCase"));
    relabel(evidence, mapLabel("grpc_code", GRPC, asCamelCase));
    expect(JSON.stringify(evidence.metrics.end)).toContain('"grpc_code":"Unavailable"');
    const original = scenarioFixture(name);
    expect(statuses(evaluate(evidence, expectations))).toEqual(
      statuses(evaluate(original.evidence, original.expectations)),
    );
  });

  test("numbers, when the contract says so", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    withContract(evidence, (c) => (c.grpcCodeSpelling = "number"));
    const numbers: Record<string, string> = { OK: "0", UNAVAILABLE: "14", DEADLINE_EXCEEDED: "4", CANCELLED: "1" };
    relabel(
      evidence,
      mapLabel("grpc_code", GRPC, (v) => numbers[v] ?? v),
    );
    expect(idsWith(evaluate(evidence, expectations), "failed")).toEqual([]);
  });

  test("CamelCase labels under an UPPER_SNAKE contract fail", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    relabel(evidence, mapLabel("grpc_code", GRPC, asCamelCase));
    expect(idsWith(evaluate(evidence, expectations), "failed")).toEqual(
      expect.arrayContaining(["metrics.span-counter-agreement", "metrics.status-labels"]),
    );
  });

  test("grpcCodeName reads every spelling Go and the registries use", () => {
    expect(
      ["Unavailable", "DeadlineExceeded", "Canceled", "OK", "Unknown"].map((v) => grpcCodeName(v, "CamelCase")),
    ).toEqual(["UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "OK", "UNKNOWN"]);
    expect(["14", "0", "4"].map((v) => grpcCodeName(v, "number"))).toEqual(["UNAVAILABLE", "OK", "DEADLINE_EXCEEDED"]);
    expect(grpcCodeName("Unavailable")).toBe("Unavailable");
  });
});

describe("a counter that is its histogram's own _count (OpenTelemetry exporters)", () => {
  test("is read as the counter: the edge counts pass, histogram-count leaves those endpoints out", () => {
    const { evidence, expectations } = scenarioFixture("payments-errors");
    withContract(evidence, (c) => {
      c.httpServerRequests = { ...c.httpServerRequests, name: `${c.httpServerDuration.name}_count` };
    });
    const results = evaluate(evidence, expectations);
    expect(idsWith(results, "failed")).toEqual([]);
    const count = find(results, "metrics.histogram-count");
    expect(count.status).toBe("passed");
    expect(Object.keys(count.observed.leftOut as object).sort()).toEqual(["gateway http server", "orders http server"]);
  });

  test("hygiene asks for the series once and promtool's rules find nothing to say about it", () => {
    const otel = BUILTIN_CONTRACTS.otel;
    const series = requiredSeries(otel, { "GET /x": [] }, { ...edgeService(), contract: otel });
    expect(series.filter((s) => s === "http_server_request_duration_seconds_count")).toHaveLength(1);
    expect(lintExposition(OTEL_EXPOSITION)).toEqual([]);
  });
});

describe("an HTTP client whose peer label holds an address", () => {
  test("cannot be put on hops: its client side is left out, not failed", () => {
    const { evidence, expectations } = scenarioFixture("baseline");
    relabel(
      evidence,
      mapLabel(
        "peer_service",
        (n) => n.startsWith("http_client"),
        () => "127.0.0.1",
      ),
    );
    const results = evaluate(evidence, expectations);
    expect(idsWith(results, "failed")).toEqual([]);
    const hops = find(results, "metrics.hop-agreement");
    expect(hops.observed.leftOut).toEqual({
      "gateway -> orders (http)": expect.stringContaining("peer_service label names no service of the run (127.0.0.1)"),
    });
  });
});

describe("the otel built-in contract", () => {
  test("is valid, built in, and promises no runtime, request id, probes body or exemplars", () => {
    const otel = BUILTIN_CONTRACTS.otel;
    expect(parseContract(structuredClone(otel), "copy.json")).toEqual(otel);
    expect(resolveContract("otel", "/")).toBe(otel);
    expect(otel.runtimeMetrics).toBeUndefined();
    expect(otel.spans.requestId).toBeUndefined();
    expect(otel.exemplarTraceIdLabel).toBeUndefined();
    expect(otel.httpServerRequests).toEqual({
      name: "http_server_request_duration_seconds_count",
      type: "counter",
      labelKeys: ["http_request_method", "http_route", "http_response_status_code"],
    });
    expect(otel.grpcServerHandling.name).toBe("rpc_server_call_duration_seconds");
  });

  test("node and go stay as they were: every key they had, the runtime checks they require", () => {
    expect(Object.keys(BUILTIN_CONTRACTS.node.labels)).toContain("httpMethod");
    expect(BUILTIN_CONTRACTS.go.spans.requestId).toBe("meshproof.request_id");
    const node = structuredClone(BUILTIN_CONTRACTS.node) as Partial<typeof BUILTIN_CONTRACTS.node>;
    delete node.runtime;
    expect(() => parseContract(node, "node.json")).toThrow(
      'node.json: runtime ("node" or "go") is required with runtimeMetrics',
    );
  });
});

function edgeService(): Evidence["services"][number] {
  return {
    name: "edge",
    role: "edge",
    protocol: "http",
    instance: "127.0.0.1:1",
    contract: BUILTIN_CONTRACTS.otel,
    impl: "external",
  };
}

/** What the OTel Go SDK's Prometheus exporter serves for one HTTP server histogram. */
const OTEL_EXPOSITION = `# HELP http_server_request_duration_seconds Duration of HTTP server requests.
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/dispatch",otel_scope_name="go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",le="0.005"} 0
http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",http_route="/dispatch",otel_scope_name="go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",le="+Inf"} 3
http_server_request_duration_seconds_sum{http_request_method="GET",http_response_status_code="200",http_route="/dispatch",otel_scope_name="go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"} 2.1
http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/dispatch",otel_scope_name="go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"} 3
`;
