import { BUILTIN_CONTRACTS, ContractError, parseContract } from "../../../assertions/contract";

describe("the telemetry contract schema", () => {
  test("the built-in node and go contracts are valid", () => {
    expect(BUILTIN_CONTRACTS.node.runtime).toBe("node");
    expect(BUILTIN_CONTRACTS.go.runtimeMetrics.goroutines).toBe("go_goroutines");
    expect(parseContract(structuredClone(BUILTIN_CONTRACTS.node), "copy.json")).toEqual(BUILTIN_CONTRACTS.node);
  });

  test("an unknown key is rejected with its path", () => {
    const bad = {
      ...structuredClone(BUILTIN_CONTRACTS.node),
      spans: { ...BUILTIN_CONTRACTS.node.spans, statusCode: "x" },
    };
    expect(() => parseContract(bad, "mine.json")).toThrow(
      new ContractError("mine.json: spans.statusCode is not a known key"),
    );
  });

  test("a missing or malformed series name is rejected with its path", () => {
    const { grpcServerHandled: _dropped, ...missing } = structuredClone(BUILTIN_CONTRACTS.node);
    expect(() => parseContract(missing, "mine.json")).toThrow(/mine\.json: grpcServerHandled: /);
    const malformed = structuredClone(BUILTIN_CONTRACTS.node);
    malformed.httpServerRequests.name = "http server requests";
    expect(() => parseContract(malformed, "mine.json")).toThrow(
      /httpServerRequests\.name: must be a Prometheus metric name/,
    );
  });

  test("a runtime's own series are required: event loop for node, goroutines for go", () => {
    const go = structuredClone(BUILTIN_CONTRACTS.go);
    delete go.runtimeMetrics.goroutines;
    expect(() => parseContract(go, "go.json")).toThrow(
      'go.json: runtimeMetrics.goroutines is required for runtime "go"',
    );
  });
});
