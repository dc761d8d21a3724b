import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Verdict } from "../../harness/report/verdict";
import { DIST, runCli } from "../support/cli";

const ROOT = path.resolve(DIST, "..");
const CONFIG = path.join(ROOT, "examples/hotrod/meshproof.config.ts");

interface Documented {
  status: string;
  failed: string[];
}

/**
 * The README's table of HotROD findings (between its hotrod-findings markers): per scenario, its status and the
 * assertions that fail on HotROD, each a finding about HotROD checked by hand.
 */
function documentedFindings(): Record<string, Documented> {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const table = /<!-- hotrod-findings -->([\s\S]*?)<!-- \/hotrod-findings -->/.exec(readme)?.[1];
  if (!table) throw new Error("README.md has no <!-- hotrod-findings --> table");
  const rows = table
    .split("\n")
    .filter((line) => /^\| `/.test(line))
    .map((line) => line.split("|").map((cell) => cell.trim()));
  return Object.fromEntries(
    rows.map(([, scenario = "", status = "", failed = ""]) => [
      scenario.replace(/`/g, ""),
      { status: status.toLowerCase(), failed: [...failed.matchAll(/`([a-z-]+\.[a-z-]+)`/g)].map((m) => m[1]!).sort() },
    ]),
  );
}

describe("Jaeger's HotROD, a mesh meshproof did not write", () => {
  // HotROD (examples/hotrod of the Jaeger module, built by `npm run setup`) launched from its config: four processes,
  // every call through meshproof's proxies, every fault from outside. Its capacity is its customer service's: one
  // 300 ms query at a time behind a mutex (3.3 req/s; `npm run capacity -- --config ...` measures 3 here).
  test("the whole catalog gives each scenario the status and failed assertions the README documents", async () => {
    const documented = documentedFindings();
    const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-hotrod-"));
    try {
      // Each worker launches its own HotROD (every address a placeholder): three mutexes, three capacities. auto
      // would take one: the scenarios' rate is half of one HotROD's capacity, and auto assumes meshes share it.
      const args = ["--config", CONFIG, "--workers", "3", "--report-dir", reportDir];
      const result = await runCli("harness/cli/scenario.js", args);
      expect({ code: result.code, stderr: result.stderr.slice(-2_000) }).toEqual({
        code: 1,
        stderr: expect.any(String),
      });
      const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
      expect(verdict.run.workers).toBe(3);
      const judged = Object.fromEntries(
        verdict.scenarios.map((s): [string, Documented] => [
          s.name,
          {
            status: s.status,
            failed: s.assertions
              .filter((a) => a.status === "failed")
              .map((a) => a.id)
              .sort(),
          },
        ]),
      );
      expect(judged).toEqual(documented);
      // At least 10 fault scenarios ran on HotROD's own services and links, none named after the sample mesh.
      const faulted = verdict.scenarios.filter((s) => s.groundTruth.faults.length > 0);
      expect(faulted.length).toBeGreaterThanOrEqual(10);
      const bound = verdict.scenarios.map((s) => [s.name, ...s.groundTruth.faults.map((f) => f.target)]);
      expect(JSON.stringify(bound)).not.toMatch(/payments|inventory|orders|gateway/);
    } finally {
      fs.rmSync(reportDir, { recursive: true, force: true });
    }
    // About 10 minutes here (the fault scenarios slowed 4 times to half its capacity), plus 45 s to measure it.
  }, 1_200_000);
});
