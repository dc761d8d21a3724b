import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Verdict } from "../../harness/report/verdict";
import { DIST, runCli } from "../support/cli";

const CLI = "harness/cli/scenario.js";
const SAMPLE_AS_FOREIGN = path.resolve(DIST, "../examples/sample-mesh/meshproof.config.ts");
/** One scenario per way a fault is injected from outside: L7 proxy, Toxiproxy, SIGKILL, SIGTERM without an admin API. */
const SCENARIOS = ["baseline", "payments-errors", "link-reset", "process-kill", "graceful-restart"];

/** Each scenario's status and its assertions' ids and statuses, as a run's verdict.json gives them. */
async function outcomes(args: string[]): Promise<Record<string, { status: string; assertions: string[] }>> {
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-foreign-"));
  try {
    const result = await runCli(CLI, [...SCENARIOS, "--backend", "native", "--report-dir", reportDir, ...args]);
    expect({ code: result.code, stderr: result.stderr.slice(-2_000) }).toEqual({ code: 0, stderr: expect.any(String) });
    const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
    return Object.fromEntries(
      verdict.scenarios.map((s) => [
        s.name,
        { status: s.status, assertions: s.assertions.map((a) => `${a.id} ${a.status}`).sort() },
      ]),
    );
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

describe("the sample mesh judged as a mesh meshproof did not write", () => {
  // Launched by its commands from examples/sample-mesh/meshproof.config.ts: no admin API, every fault from outside
  // (an L7 proxy for errors, Toxiproxy for links, signals for processes).
  test("its scenarios give the native run's statuses and assertion ids, each with the native status", async () => {
    const native = await outcomes([]);
    const foreign = await outcomes(["--config", SAMPLE_AS_FOREIGN]);
    expect(Object.keys(native).sort()).toEqual([...SCENARIOS].sort());
    expect(Object.values(native).every((s) => s.status === "passed")).toBe(true);
    expect(foreign).toEqual(native);
  });
});
