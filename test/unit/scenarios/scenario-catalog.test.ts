import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadCatalog, loadScenario, selectScenarios, validateScenario } from "../../../scenarios/lib/loader";
import { MESH_SERVICES, sampleTopology } from "../../../scenarios/lib/sample-topology";
import { FAULT_KINDS, ScenarioError } from "../../../scenarios/lib/scenario-model";
import type { Scenario } from "../../../scenarios/lib/scenario-model";

const redisOutage = loadCatalog().find((s) => s.name === "redis-outage")!;

const FILE = path.join("/repo", "dist", "scenarios", "redis-outage.js");

function variant(change: (s: Record<string, unknown> & Scenario) => void): unknown {
  const copy = structuredClone(redisOutage) as Record<string, unknown> & Scenario;
  change(copy);
  return copy;
}

function problem(value: unknown, file = FILE): string {
  try {
    validateScenario(value, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario catalog", () => {
  it("loads the compiled catalog, valid and named after their files, a scenario for every fault kind", () => {
    const catalog = loadCatalog();
    expect(catalog.map((s) => s.name)).toEqual([
      "baseline",
      "cpu-burn",
      "event-loop-stall",
      "graceful-restart",
      "inventory-latency",
      "link-bandwidth",
      "link-latency",
      "link-reset",
      "link-timeout",
      "load",
      "memory-pressure",
      "payments-errors",
      "process-freeze",
      "process-kill",
      "redis-outage",
      "sampling",
      "saturation",
    ]);
    // The kinds injected from outside come in where the mesh offers no admin API.
    const outside = loadCatalog(undefined, sampleTopology({}, { admin: [], cgroup: [...MESH_SERVICES] }));
    const kinds = new Set([...catalog, ...outside].flatMap((s) => s.faults.map((f) => f.kind)));
    expect([...FAULT_KINDS].filter((k) => !kinds.has(k))).toEqual([]);
    expect(catalog.find((s) => s.name === "baseline")!.faults).toEqual([]);
    // Every scenario judges every family, baseline included (its metrics must equal the driver's too).
    for (const scenario of catalog)
      expect(scenario.expectations.families).toEqual([
        "traces",
        "metrics",
        "probes",
        "runtime",
        "hygiene",
        "correlation",
      ]);
  });

  it("lists the valid names for an unknown scenario", () => {
    expect(() => selectScenarios(loadCatalog(), ["baseline", "nope"])).toThrow(
      /^unknown scenario "nope"; valid names: baseline, cpu-burn, .*, saturation$/,
    );
  });

  it("names the source file and key path of a bad value", () => {
    const bad = variant((s) => (s.faults[0]!.durationMs = -5));
    expect(problem(bad)).toBe("scenarios/redis-outage.ts: faults[0].durationMs must be > 0 (got -5)");
  });

  it("rejects unknown keys at any depth", () => {
    const bad = variant((s) => {
      s.extra = true;
      (s.load as unknown as Record<string, unknown>).rps = 3;
      (s.faults[0]!.params as Record<string, unknown>).ms = 3;
    });
    const message = problem(bad);
    expect(message).toContain("scenarios/redis-outage.ts: ");
    expect(message).toContain("extra is not a known key");
    expect(message).toContain("load.rps is not a known key");
    expect(message).toContain("faults[0].params.ms is not a known key");
  });

  it("checks fault kinds, targets, params and timing against the load", () => {
    const kind = variant((s) => ((s.faults[0] as unknown as Record<string, unknown>).kind = "meteor"));
    expect(problem(kind)).toContain(
      `faults[0].kind must be one of "error" | "latency" | "link-down" | "link-latency" | "link-timeout" | "link-reset" | "link-bandwidth" | "kill" | "freeze" | "restart" | "memory" | "stall" | "overload" | "cpu" | "cpu-throttle" (got "meteor")`,
    );
    const link = variant((s) => (s.faults[0]!.target = "orders-postgres"));
    expect(problem(link)).toContain("faults[0].target must be a mesh link");
    const late = variant((s) => (s.faults[0]!.atMs = 7_000));
    expect(problem(late)).toContain(
      "faults[0].durationMs must end with the load (warmupMs + durationMs = 8000): atMs + durationMs = 10000",
    );
    const both = variant((s) => {
      s.faults[0] = {
        kind: "error",
        target: "payments.Charge",
        atMs: 2_000,
        durationMs: 1_000,
        params: { rate: 0.2, grpcCode: "UNAVAILABLE", httpStatus: 503 },
      };
    });
    expect(problem(both)).toContain("faults[0].params must set exactly one of grpcCode and httpStatus");
    const route = variant((s) => (s.load.routes[0]!.route = "GET /nowhere"));
    expect(problem(route)).toContain("load.routes[0].route must be a route of expectations.topology");
  });

  it("requires the scenario name to match its file", () => {
    expect(problem(redisOutage, "/repo/dist/scenarios/other.js")).toBe(
      'scenarios/other.ts: name must equal the file name "other" (got "redis-outage")',
    );
  });

  it("loads a catalog folder and reports an invalid file by its path", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "meshproof-catalog-"));
    const file = path.join(dir, "broken.js");
    writeFileSync(
      file,
      `exports.default = ${JSON.stringify({ ...structuredClone(redisOutage), name: "broken", load: { ...redisOutage.load, ratePerSec: 0 } })};`,
    );
    expect(() => loadCatalog(dir)).toThrow(ScenarioError);
    expect(() => loadScenario(file)).toThrow(/broken\.js: load\.ratePerSec must be > 0 \(got 0\)/);
  });
});
