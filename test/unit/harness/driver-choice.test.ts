import { loadBoundCatalog } from "../../../scenarios/lib/loader";
import { sampleTopology } from "../../../scenarios/lib/sample-topology";
import { withDriver } from "../../../harness/cli/scenario-options";
import { DEFAULT_TOOL_NAMES, RUN_TOOL_NAMES, setupCommand } from "../../../harness/tools/tools";

describe("k6 off the default path", () => {
  const { scenarios } = loadBoundCatalog(undefined, sampleTopology());

  test("the catalog drives every scenario with the inline driver, and neither setup nor a run provisions k6", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(17);
    expect(scenarios.filter((s) => (s.load.driver ?? "inline") !== "inline").map((s) => s.name)).toEqual([]);
    expect(RUN_TOOL_NAMES).not.toContain("k6");
    expect(DEFAULT_TOOL_NAMES).not.toContain("k6");
    expect(setupCommand("k6")).toBe("npm run setup -- --with k6");
    expect(setupCommand("jaeger")).toBe("npm run setup");
  });

  test("--driver k6 drives every scenario with k6; an unknown driver is a usage error naming the valid ones", () => {
    expect(withDriver(scenarios, "k6").map((s) => s.load.driver)).toEqual(scenarios.map(() => "k6"));
    expect(withDriver(scenarios, undefined)).toBe(scenarios);
    expect(() => withDriver(scenarios, "wrk")).toThrow("--driver wrk: valid values: inline, k6");
  });

  test("--driver inline refuses a scenario with k6 thresholds, which only k6 evaluates", () => {
    const load = scenarios.find((s) => s.name === "load")!;
    const withThresholds = { ...load, load: { ...load.load, driver: "k6" as const, thresholds: { x: ["rate<1"] } } };
    expect(() => withDriver([withThresholds], "inline")).toThrow(/--driver inline: load declares k6 thresholds/);
  });
});
