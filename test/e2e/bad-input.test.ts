import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { Verdict } from "../../harness/report/verdict";
import { loadCatalog } from "../../scenarios/lib/loader";
import { collect, runCli, spawnCli } from "../support/cli";
import { scenarioFixture } from "../support/evidence-fixture";

/**
 * Hostile input to the CLIs, each case run as a child process: a one-line cause that names the fix, exit 2, no stack
 * trace, nothing started (no run directory under MESHPROOF_RUN_ROOT, no tool provisioned) and nothing of the user's
 * removed or left behind.
 */
const CLIS = { scenario: "harness/cli/scenario.js", report: "harness/cli/report.js", mutate: "harness/cli/mutate.js" };

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-bad-${prefix}-`));
}

/** Every file under dir (relative, sorted) with its content: what "nothing was removed or changed" compares. */
function snapshot(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  if (!fs.statSync(dir).isDirectory()) return { ".": fs.readFileSync(dir, "utf8") };
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = entry.isDirectory() ? "<dir>" : fs.readFileSync(full, "utf8");
  }
  return files;
}

/** A catalog scenario as a plain scenario file in a folder of its own, changed by `change`. */
function scenarioFolder(name: string, change: (scenario: Record<string, unknown>) => void): string {
  const scenario = structuredClone(loadCatalog().find((s) => s.name === name)!) as unknown as Record<string, unknown>;
  delete scenario.file;
  change(scenario);
  const dir = tempDir("scenarios");
  fs.writeFileSync(path.join(dir, `${String(scenario.name)}.js`), `exports.default = ${JSON.stringify(scenario)};\n`);
  return dir;
}

interface Faults {
  faults: { kind: string; target: string; atMs: number; durationMs: number; params: Record<string, unknown> }[];
}

/** Where each case runs: a report dir with a user's files in it (never written by meshproof), and fresh paths. */
interface Context {
  /** A folder of the user's: logs/, a verdict.json and notes it wrote itself. Nothing in it may go. */
  user: string;
  /** A path that does not exist: a bad case must not create it. */
  fresh: string;
  /** A report dir holding what a run writes, for `npm run report` and `npm run mutate`, set up by the case. */
  run: string;
}

interface Case {
  name: string;
  cli?: keyof typeof CLIS;
  args: (c: Context) => string[];
  setup?: (c: Context) => void;
  /** The one line on stderr, after "meshproof: ". */
  says: (c: Context) => string | RegExp;
  code?: number;
}

const ROOT_USER = process.getuid?.() === 0;
const WRITE_REFUSED =
  /is not writable \((EACCES|EPERM|EROFS)\): give a folder you can write to with --report-dir, or fix its permissions$/;

const CASES: Case[] = [
  // Defect 1: every argument is checked before anything is removed.
  {
    name: "--config FILE that does not exist, with the user's folder as --report-dir",
    args: (c) => ["baseline", "--report-dir", c.user, "--config", "/nope.ts"],
    says: () =>
      '--config /nope.ts does not exist: give the path of a mesh config (defineConfig() .ts/.js, or JSON; "npm run init" writes one)',
  },
  {
    name: "--report-dir '' (the current folder)",
    args: () => ["baseline", "--report-dir", ""],
    says: () =>
      "--report-dir is empty (it would mean the current folder): name a folder, e.g. --report-dir reports/latest",
  },
  {
    name: "--backend nosuch",
    args: (c) => ["baseline", "--report-dir", c.user, "--backend", "nosuch"],
    says: () => 'unknown backend "nosuch"; valid backends: auto, native, docker',
  },
  {
    name: "an unknown scenario name",
    args: (c) => ["baseline", "no-such-scenario", "--report-dir", c.user],
    says: () => /^unknown scenario "no-such-scenario"; valid names: baseline, /,
  },
  {
    name: "--contract FILE that does not exist",
    args: (c) => ["baseline", "--report-dir", c.user, "--contract", "/nope.json"],
    says: () =>
      "contract /nope.json does not exist: give the path of a telemetry contract (JSON) or a built-in one (node, go, otel)",
  },
  {
    name: "--reporter nosuch",
    args: (c) => ["baseline", "--report-dir", c.user, "--reporter", "list,nosuch"],
    says: () => "--reporter nosuch: valid reporters: progress, list, json, junit, evidence, html",
  },
  {
    name: "--keep -1",
    args: (c) => ["baseline", "--report-dir", c.user, "--keep=-1"],
    says: () => '--keep must be an integer >= 0 (got "-1")',
  },
  {
    name: "--workers 0",
    args: (c) => ["baseline", "--report-dir", c.user, "--workers", "0"],
    says: () => '--workers must be "auto" or an integer >= 1 (got "0")',
  },
  {
    name: "--driver nosuch",
    args: (c) => ["baseline", "--report-dir", c.user, "--driver", "nosuch"],
    says: () => "--driver nosuch: valid values: inline, k6",
  },
  // Defect 3: seeds are integers within 0..2^32-1.
  ...[["99999999999999999999"], [""], ["4294967296"], ["-1"], ["1e3"], ["1.5"]].map(([seed]): Case => ({
    name: `--seed "${seed}"`,
    args: (c) => ["baseline", "--report-dir", c.user, `--seed=${seed}`],
    says: () =>
      `--seed must be an integer within 0..4294967295 (got "${seed}"): load and fault decisions take a 32-bit seed`,
  })),
  // Defect 2: a report dir that cannot be written is found before anything starts.
  {
    name: "--report-dir under a file (cannot be created)",
    setup: (c) => fs.writeFileSync(c.fresh, "a file"),
    args: (c) => ["baseline", "--report-dir", path.join(c.fresh, "latest")],
    says: (c) =>
      `--report-dir ${path.join(c.fresh, "latest")} is not writable (ENOTDIR): give a folder you can write to with --report-dir, or fix its permissions`,
  },
  {
    // root writes through mode bits: a folder under /sys (read-only to everyone in a container) stands in for it.
    name: "--report-dir read-only",
    setup: (c) => {
      if (!ROOT_USER) fs.mkdirSync(c.fresh, { mode: 0o555 });
    },
    args: (c) => ["baseline", "--report-dir", ROOT_USER ? "/sys/meshproof-report" : c.fresh],
    says: () => WRITE_REFUSED,
  },
  // Defect 3: bounds, method targets and what a scenario file throws, at load time.
  {
    name: "a scenario with ratePerSec 1e9",
    args: () => [
      "--scenarios",
      scenarioFolder("baseline", (s) => ((s.load as { ratePerSec: number }).ratePerSec = 1e9)),
      "--list",
    ],
    says: () =>
      /baseline\.js: load\.ratePerSec must be <= 10000 \(got 1000000000\): one machine's load driver sends at most/,
  },
  {
    name: "a scenario whose load lasts 1e12 ms",
    args: () => [
      "--scenarios",
      scenarioFolder("baseline", (s) => ((s.load as { durationMs: number }).durationMs = 1e12)),
      "--list",
    ],
    says: () => /baseline\.js: load\.durationMs must be <= 3600000 \(got 1000000000000\): a scenario's load lasts/,
  },
  {
    name: "a latency fault of 1e9 ms",
    args: () => [
      "--scenarios",
      scenarioFolder("inventory-latency", (s) => ((s as unknown as Faults).faults[0]!.params.ms = 1e9)),
      "--list",
    ],
    says: () =>
      /inventory-latency\.js: faults\[0\]\.params\.ms must be <= 60000 \(got 1000000000\): a delay, deadline or timeout past a minute/,
  },
  {
    name: "a fault on an unknown method",
    args: () => [
      "--scenarios",
      scenarioFolder("inventory-latency", (s) => ((s as unknown as Faults).faults[0]!.target = "inventory.NoSuch")),
      "inventory-latency",
    ],
    says: () =>
      /inventory-latency\.js: faults\[0\]\.target names no operation of inventory: its operations are Reserve, GetProduct \(a fault on another one would never take\) \(got "inventory\.NoSuch"\)$/,
  },
  {
    name: "a scenario file that throws a string",
    setup: (c) => {
      fs.mkdirSync(c.fresh);
      fs.writeFileSync(path.join(c.fresh, "throws.js"), 'throw "boom: not a scenario";\n');
    },
    args: (c) => ["--scenarios", c.fresh, "--list"],
    says: () => /throws\.js: cannot be loaded: boom: not a scenario$/,
  },
  // Defect 4: two faults on one target at once.
  {
    name: "two link-down faults overlapping on one link",
    args: () => [
      "--scenarios",
      scenarioFolder("redis-outage", (s) => {
        const { faults } = s as unknown as Faults;
        faults.push({ ...faults[0]!, atMs: faults[0]!.atMs + 1_000 });
      }),
      "redis-outage",
    ],
    says: () =>
      /redis-outage\.js: faults\[1\]\.atMs overlaps faults\[0\] on orders-redis \(faults\[0\] 2000\.\.5000 ms, faults\[1\] 3000\.\.6000 ms\): a target takes one fault at a time/,
  },
  // Defect 3: report and mutate on corrupt, truncated or wrong-shape files.
  {
    name: "report: a corrupt verdict.json",
    cli: "report",
    setup: (c) => fs.writeFileSync(path.join(c.run, "verdict.json"), '{"version":2'),
    args: (c) => ["--report-dir", c.run],
    says: (c) =>
      new RegExp(
        `^${path.join(c.run, "verdict.json")} cannot be read \\(.*\\): it is truncated or corrupt; run "npm run scenario" again to write it$`,
      ),
  },
  {
    name: "report: a verdict.json of the wrong shape (null)",
    cli: "report",
    setup: (c) => fs.writeFileSync(path.join(c.run, "verdict.json"), "null"),
    args: (c) => ["--report-dir", c.run],
    says: (c) =>
      `${path.join(c.run, "verdict.json")} is not a meshproof verdict (version 2 with a run id and a scenarios list): run "npm run scenario" again to write it`,
  },
  {
    name: "report: a truncated evidence.json.gz",
    cli: "report",
    setup: (c) => {
      const gz = fs.readFileSync(path.join(c.run, "evidence.json.gz"));
      fs.writeFileSync(path.join(c.run, "evidence.json.gz"), gz.subarray(0, gz.length / 2));
    },
    args: (c) => ["--report-dir", c.run],
    says: (c) =>
      `${path.join(c.run, "evidence.json.gz")} cannot be read (unexpected end of file): it is truncated or corrupt; run "npm run scenario" again to write it`,
  },
  {
    name: "mutate: a truncated evidence.json.gz",
    cli: "mutate",
    setup: (c) => fs.writeFileSync(path.join(c.run, "evidence.json.gz"), zlib.gzipSync("{}").subarray(0, 12)),
    args: (c) => ["--report-dir", c.run, "--jobs", "1"],
    says: (c) =>
      `${path.join(c.run, "evidence.json.gz")} cannot be read (unexpected end of file): it is truncated or corrupt; run "npm run scenario" again to write it`,
  },
  {
    name: "mutate: evidence of the wrong shape (a scenario without its evidence)",
    cli: "mutate",
    setup: (c) =>
      fs.writeFileSync(
        path.join(c.run, "evidence.json.gz"),
        zlib.gzipSync(JSON.stringify({ version: 1, runId: "x", seed: 1, scenarios: [{ name: "baseline" }] })),
      ),
    args: (c) => ["--report-dir", c.run, "--jobs", "1"],
    says: (c) =>
      `${path.join(c.run, "evidence.json.gz")}: scenarios[0] expectations is not an object with families and topology, not what meshproof writes: run "npm run scenario" again to write it`,
  },
  {
    name: "mutate: a corrupt verdict.json beside the evidence (read before any mutant is judged)",
    cli: "mutate",
    setup: (c) => fs.writeFileSync(path.join(c.run, "verdict.json"), "{"),
    args: (c) => ["--report-dir", c.run, "--jobs", "1"],
    says: (c) =>
      new RegExp(
        `^${path.join(c.run, "verdict.json")} cannot be read \\(.*\\): it is truncated or corrupt; run "npm run scenario" again to write it$`,
      ),
  },
  {
    name: "mutate: --seed 4294967296",
    cli: "mutate",
    args: (c) => ["--report-dir", c.run, "--seed", "4294967296"],
    says: () =>
      '--seed must be an integer within 0..4294967295 (got "4294967296"): load and fault decisions take a 32-bit seed',
  },
];

/** A verdict and evidence as a run writes them (minimal, but of the shape `npm run report` renders). */
function writeRun(dir: string): void {
  fs.writeFileSync(
    path.join(dir, "verdict.json"),
    JSON.stringify({ version: 2, run: { id: "20261207T010000000Z-aaaaaa" }, scenarios: [] }),
  );
  fs.writeFileSync(
    path.join(dir, "evidence.json.gz"),
    zlib.gzipSync(JSON.stringify({ version: 1, runId: "20261207T010000000Z-aaaaaa", seed: 1, scenarios: [] })),
  );
}

describe("bad input: one line naming the fix, exit 2, nothing started, nothing removed", () => {
  let root: string;
  beforeAll(() => {
    root = tempDir("root");
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const base = fs.mkdtempSync(path.join(root, "case-"));
    const context: Context = {
      user: path.join(base, "user"),
      fresh: path.join(base, "fresh"),
      run: path.join(base, "run"),
    };
    fs.mkdirSync(path.join(context.user, "logs"), { recursive: true });
    fs.writeFileSync(path.join(context.user, "logs", "mine.log"), "the user's log");
    fs.writeFileSync(path.join(context.user, "verdict.json"), '{"mine": true}');
    fs.writeFileSync(path.join(context.user, "notes.txt"), "the user's notes");
    fs.mkdirSync(context.run);
    writeRun(context.run);
    c.setup?.(context);
    const before = { user: snapshot(context.user), run: snapshot(context.run), fresh: snapshot(context.fresh) };
    const runRoot = path.join(base, "run-root");
    const result = await runCli(CLIS[c.cli ?? "scenario"], c.args(context), { MESHPROOF_RUN_ROOT: runRoot });
    const says = c.says(context);
    const lines = result.stderr.trimEnd().split("\n");
    expect({ code: result.code, lines: lines.length }).toEqual({ code: c.code ?? 2, lines: 1 });
    expect(result.stderr).not.toMatch(/^\s+at /m);
    const line = lines[0]!.replace(/^meshproof: /, "");
    if (typeof says === "string") expect(line).toBe(says);
    else expect(line).toMatch(says);
    // Nothing started: no stack's run directory, no tool provisioned; nothing removed, changed or created.
    expect(fs.existsSync(runRoot)).toBe(false);
    expect(result.stderr + result.stdout).not.toMatch(/^setup \d+ ms/m);
    expect({ user: snapshot(context.user), run: snapshot(context.run), fresh: snapshot(context.fresh) }).toEqual(
      before,
    );
  });
});

describe("what a run leaves in its report dir", () => {
  let dir: string;
  let runRoot: string;
  beforeEach(() => {
    dir = tempDir("report");
    runRoot = tempDir("run-root");
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(runRoot, { recursive: true, force: true });
  });

  test("a stale mutation.json (npm run mutate's) is removed by the next run; the user's files stay", async () => {
    const evidence = {
      version: 1,
      runId: "20261207T010000000Z-aaaaaa",
      seed: 1,
      scenarios: [scenarioFixture("baseline")],
    };
    fs.writeFileSync(path.join(dir, "evidence.json.gz"), zlib.gzipSync(JSON.stringify(evidence)));
    fs.writeFileSync(path.join(dir, "notes.txt"), "the user's notes");
    const mutated = await runCli(CLIS.mutate, ["--report-dir", dir, "--per-operator", "1", "--jobs", "1"]);
    expect(mutated.stderr).toBe("");
    expect(fs.existsSync(path.join(dir, "mutation.json"))).toBe(true);
    const run = await runCli(CLIS.scenario, ["baseline", "--backend", "native", "--report-dir", dir], {
      MESHPROOF_RUN_ROOT: runRoot,
    });
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    const left = fs.readdirSync(dir).sort();
    expect(left).not.toContain("mutation.json");
    expect(left).not.toContain("mutation-report.json");
    expect(left).toEqual(expect.arrayContaining(["notes.txt", "verdict.json", "junit.xml", "report.html"]));
    expect(fs.readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("the user's notes");
  });

  test("SIGINT while the stack starts: a verdict marked interrupted (never PASSED), exit 130, the stack stopped", async () => {
    const child = spawnCli(CLIS.scenario, ["baseline", "--backend", "native", "--report-dir", dir], {
      MESHPROOF_RUN_ROOT: runRoot,
    });
    const result = collect(child);
    // The first line of the run's setup: tools provisioned, the backend about to start.
    await new Promise<void>((resolve) => {
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
        if (/^setup \d+ ms$/m.test(stderr)) resolve();
      });
    });
    child.kill("SIGINT");
    const { code, stdout, stderr } = await result;
    expect({ code, stderr: code === 130 ? "" : stderr }).toEqual({ code: 130, stderr: "" });
    expect(stderr).not.toMatch(/^\s+at /m);
    const verdict = JSON.parse(fs.readFileSync(path.join(dir, "verdict.json"), "utf8")) as Verdict;
    expect(verdict.run.interrupted).toBe("SIGINT");
    expect(verdict.scenarios.map((s) => [s.name, s.status])).toEqual([["baseline", "aborted"]]);
    expect(verdict.scenarios[0]!.abortReason).toMatch(/SIGINT/);
    expect(stdout).not.toMatch(/PASSED/);
    expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toMatch(/<title>meshproof INTERRUPTED/);
    expect(fs.readFileSync(path.join(dir, "junit.xml"), "utf8")).toMatch(
      /<testsuites name="meshproof" tests="1" failures="0" errors="1"/,
    );
    // The stack it started is stopped and its run directory removed.
    expect(fs.readdirSync(runRoot)).toEqual([]);
  });
});
