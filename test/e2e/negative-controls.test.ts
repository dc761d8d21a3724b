import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { schedule } from "../../harness/run/schedule";
import type { Verdict } from "../../harness/report/verdict";
import { loadCatalog } from "../../scenarios/lib/loader";
import { runCli, type CliResult } from "../support/cli";
import { LEADS, NEGATIVE_CONTROLS } from "../support/negative-controls";

const CLI = "harness/cli/scenario.js";

/**
 * Controls run at once, one per core, each its own `npm run scenario` with its own stack and mesh: most of a control's
 * time is waiting (a 5-8 s load at 20 req/s, flushes, scrapes). One more than the cores starved a baseline's probes
 * here (liveness answered late: probes.liveness-stable failed with exemplar-previous-request, 1 run in 1). A control
 * whose scenario takes the machine (the catalog's `isolation: "alone"`: load, stall, restart) runs with no other, as
 * in a catalog run with workers.
 */
const AT_ONCE = os.availableParallelism();
const ALONE = new Set(
  loadCatalog()
    .filter((s) => s.isolation === "alone")
    .map((s) => s.name),
);

interface ControlRun {
  result: CliResult;
  reportDir: string;
}

/** Every control's run, started on first use and shared by the tests, each awaiting its own. */
let runs: Promise<ControlRun>[] | undefined;

function controlRuns(): Promise<ControlRun>[] {
  if (runs) return runs;
  const settled = NEGATIVE_CONTROLS.map(() => {
    const handle = {} as { promise: Promise<ControlRun>; resolve(run: ControlRun): void; reject(error: unknown): void };
    handle.promise = new Promise<ControlRun>((resolve, reject) => Object.assign(handle, { resolve, reject }));
    return handle;
  });
  const done = schedule(
    NEGATIVE_CONTROLS.map(([, scenario]) => ({ alone: ALONE.has(scenario) })),
    AT_ONCE,
    async (index) => {
      const [defect, scenario, , , args = []] = NEGATIVE_CONTROLS[index]!;
      const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-defect-${defect.replace(/[:=]/g, "-")}-`));
      // A defect, or an environment variable for one service (SERVICE:VAR=VALUE): a misconfiguration, not a bug.
      const control = defect.includes("=") ? ["--service-env", defect] : ["--defects", defect];
      try {
        settled[index]!.resolve({
          result: await runCli(CLI, [scenario, ...control, "--report-dir", reportDir, ...args]),
          reportDir,
        });
      } catch (error) {
        settled[index]!.reject(error);
      }
    },
    () => undefined,
  );
  done.catch((error: unknown) => settled.forEach((s) => s.reject(error)));
  runs = settled.map((s) => s.promise);
  return runs;
}

// Each known instrumentation defect must be caught by name, in the scenario that exposes it, and by nothing unrelated;
// the whole-catalog test (scenario-cli) is the control that the same scenarios pass with no defect.
describe("negative controls", () => {
  test.each(
    NEGATIVE_CONTROLS.map(([defect, scenario, id, related], index): [string, string, string, string[], number] => [
      defect,
      scenario,
      id,
      related,
      index,
    ]),
  )(
    "defect %s fails %s with %s, and no unrelated id",
    async (defect, scenario, assertionId, related, index) => {
      const { result, reportDir } = await controlRuns()[index]!;
      expect({ code: result.code, stderr: result.code === 1 ? "" : result.stderr.slice(-2_000) }).toEqual({
        code: 1,
        stderr: "",
      });
      const verdict = (JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict)
        .scenarios[0];
      expect(verdict?.status).toBe("failed");
      const failed = verdict!.assertions.filter((a) => a.status === "failed").map((a) => a.id);
      expect(failed).toContain(assertionId);
      expect(failed.filter((id) => id !== assertionId && !related.includes(id))).toEqual([]);
      // Failures first, one line each: the targeted assertion's headline, as a cause or nested under the failure
      // that explains it; where the grouping rules decide between two counters, it leads. No line over 200 characters.
      const id = assertionId.replace(".", "\\.");
      expect(result.stdout).toMatch(new RegExp(`^(✗ ${scenario} |    ↳ ✗ )${id}: `, "m"));
      if (LEADS.has(defect)) expect(/^✗ \S+ (\S+):/m.exec(result.stdout)?.[1]).toBe(assertionId);
      expect(result.stdout.split("\n").filter((line) => line.length > 200)).toEqual([]);
      // The evidence of a failure outlives the run: each service's logs are kept with the report.
      const logs = fs
        .readFileSync(path.join(reportDir, "logs", scenario, "gateway.jsonl"), "utf8")
        .trim()
        .split("\n");
      expect(JSON.parse(logs[0]!)).toMatchObject({ service: "gateway" });
      fs.rmSync(reportDir, { recursive: true, force: true });
    },
    // Its run may wait for the ones scheduled before it: at most every control's time, serially (about 7 minutes).
    600_000,
  );
});
