import { normaliseZipkinTrace, type ZipkinSpan } from "../../../harness/backends";

/** Two spans as OpenTelemetry's Zipkin exporter writes them: every tag a string, times in microseconds. */
const SPANS: ZipkinSpan[] = [
  {
    traceId: "5943e29c11279f1338bc7414e2f1f50c",
    id: "50f480c3b9fa2163",
    name: "POST /api/checkout",
    kind: "SERVER",
    timestamp: 1796631539786000,
    duration: 5200,
    localEndpoint: { serviceName: "gateway" },
    tags: {
      "http.response.status_code": "502",
      "http.route": "/api/checkout",
      "meshproof.request_id": "12345",
      "otel.status_code": "ERROR",
      error: "Bad Gateway",
    },
  },
  {
    traceId: "5943e29c11279f1338bc7414e2f1f50c",
    id: "5aff2a952348ce72",
    parentId: "50f480c3b9fa2163",
    name: "grpc.meshproof.payments.v1.Payments/Charge",
    kind: "CLIENT",
    timestamp: 1796631539787570,
    duration: 873,
    localEndpoint: { serviceName: "orders" },
    tags: { "rpc.grpc.status_code": "14", "rpc.method": "Charge" },
  },
  { traceId: "5943e29c11279f1338bc7414e2f1f50c", id: "6aff2a952348ce72", parentId: "5aff2a952348ce72" },
];

describe("a Zipkin trace in the assertions' model", () => {
  const trace = normaliseZipkinTrace(SPANS);

  test("ids, parents, services, kinds and times come across; a span without kind is internal", () => {
    expect(trace.traceId).toBe("5943e29c11279f1338bc7414e2f1f50c");
    expect(trace.spans.map((s) => [s.spanId, s.parentSpanId, s.service, s.kind, s.startTimeUs, s.durationUs])).toEqual([
      ["50f480c3b9fa2163", undefined, "gateway", "server", 1796631539786000, 5200],
      ["5aff2a952348ce72", "50f480c3b9fa2163", "orders", "client", 1796631539787570, 873],
      ["6aff2a952348ce72", "5aff2a952348ce72", "unknown", "internal", 0, 0],
    ]);
  });

  test("the semantic conventions' integer attributes are numbers again; every other tag stays a string", () => {
    expect(trace.spans[0]!.attributes["http.response.status_code"]).toBe(502);
    expect(trace.spans[1]!.attributes["rpc.grpc.status_code"]).toBe(14);
    // A request id made of digits is still the string the driver sent.
    expect(trace.spans[0]!.attributes["meshproof.request_id"]).toBe("12345");
    expect(trace.spans[0]!.attributes["http.route"]).toBe("/api/checkout");
  });

  test("status: otel.status_code ERROR (or an error tag) is an error, none is unset", () => {
    expect(trace.spans.map((s) => s.status)).toEqual(["error", "unset", "unset"]);
    const tagged = normaliseZipkinTrace([{ ...SPANS[1]!, tags: { error: "" } }]);
    expect(tagged.spans[0]!.status).toBe("error");
    const ok = normaliseZipkinTrace([{ ...SPANS[1]!, tags: { "otel.status_code": "OK" } }]);
    expect(ok.spans[0]!.status).toBe("ok");
  });
});
