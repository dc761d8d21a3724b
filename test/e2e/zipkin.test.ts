import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Verdict } from "../../harness/report/verdict";
import { toolStatus } from "../../harness/tools/tools";
import { runCli } from "../support/cli";
import { NEGATIVE_CONTROLS } from "../support/negative-controls";

const CLI = "harness/cli/scenario.js";

async function run(args: string[]): Promise<{ code: number | null; output: string; verdict: Verdict }> {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-zipkin-"));
  const result = await runCli(CLI, [
    ...args,
    "--trace-store",
    "zipkin",
    "--backend",
    "native",
    "--report-dir",
    reportDir,
  ]);
  const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
  fs.rmSync(reportDir, { recursive: true, force: true });
  return { code: result.code, output: result.stderr + result.stdout, verdict };
}

// The services export Zipkin's JSON v2 to a Zipkin server (OTEL_TRACES_EXPORTER=zipkin) and nothing to Jaeger, so
// every trace the judge compares came through Zipkin's v2 API.
describe("Zipkin as the trace store (--trace-store zipkin)", () => {
  beforeAll(async () => {
    const zipkin = await toolStatus("zipkin");
    if (!zipkin.found) throw new Error(`Zipkin is not provisioned (${zipkin.path}); run "npm run setup"`);
  });

  test("baseline and payments-errors pass, every trace assertion comparing traces read from Zipkin", async () => {
    const { code, output, verdict } = await run(["baseline", "payments-errors"]);
    expect({ code, output: code === 0 ? "" : output.slice(-3_000) }).toEqual({ code: 0, output: "" });
    expect(verdict.run.traceStore).toBe("zipkin");
    expect(verdict.run.tools.zipkin).toBe("3.6.1");
    expect(verdict.scenarios.map((s) => [s.name, s.status])).toEqual([
      ["baseline", "passed"],
      ["payments-errors", "passed"],
    ]);
    const traceAssertions = verdict.scenarios.flatMap((s) => s.assertions.filter((a) => a.family === "traces"));
    expect(traceAssertions.length).toBeGreaterThanOrEqual(20);
    for (const a of traceAssertions) expect([a.id, a.observed.compared > 0]).toEqual([a.id, true]);
    // The injected gRPC errors reached the judge as error spans with their status codes (Zipkin keeps tags as strings).
    const errorPath = verdict.scenarios[1]!.assertions.find((a) => a.id === "traces.error-path")!;
    expect(errorPath.status).toBe("passed");
  }, 240_000);

  test("the drop-context defect fails baseline with traces.hop-graph, and no unrelated id", async () => {
    const [defect, scenario, id, related] = NEGATIVE_CONTROLS.find(([d]) => d === "drop-context")!;
    const { code, verdict } = await run([scenario, "--defects", defect]);
    expect(code).toBe(1);
    const failed = verdict.scenarios[0]!.assertions.filter((a) => a.status === "failed").map((a) => a.id);
    expect(failed).toContain(id);
    expect(failed.filter((f) => f !== id && !related.includes(f))).toEqual([]);
  }, 240_000);
});
