import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { archiveRoot, OUTPUTS_MARKER, prepareReportDir, recordOutputs } from "../../../harness/report/report-dir";

describe("the report directory between runs", () => {
  let root: string;
  let latest: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-report-dir-"));
    latest = path.join(root, "latest");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /**
   * What a run leaves: its verdict (with its id), evidence, report and kept logs, each recorded in the marker; plus a
   * file of the user's.
   */
  function run(id: string): void {
    fs.mkdirSync(path.join(latest, "logs", "baseline"), { recursive: true });
    fs.writeFileSync(path.join(latest, "verdict.json"), JSON.stringify({ run: { id } }));
    for (const f of ["evidence.json.gz", "report.html", "junit.xml", "logs/baseline/gateway.jsonl"])
      fs.writeFileSync(path.join(latest, f), id);
    recordOutputs(latest, "verdict.json", "evidence.json.gz", "report.html", "junit.xml", "logs");
    fs.writeFileSync(path.join(latest, "notes.txt"), "mine");
  }

  test("by default the previous run's files are removed, nothing else, and nothing is kept", () => {
    run("20261207T010000000Z-aaaaaa");
    expect(prepareReportDir(latest, 0)).toEqual({ pruned: [] });
    expect(fs.readdirSync(latest)).toEqual(["notes.txt"]);
    expect(fs.existsSync(archiveRoot(latest))).toBe(false);
  });

  test("--keep N moves each previous run to runs/<id> and keeps the newest N", () => {
    const ids = ["20261207T010000000Z-aaaaaa", "20261207T020000000Z-bbbbbb", "20261207T030000000Z-cccccc"];
    const results = ids.map((id) => {
      run(id);
      return prepareReportDir(latest, 2);
    });
    const runs = archiveRoot(latest);
    expect(runs).toBe(path.join(root, "runs"));
    expect(results.map((r) => r.archived)).toEqual(ids.map((id) => path.join(runs, id)));
    expect(results[2]!.pruned).toEqual([path.join(runs, ids[0]!)]);
    expect(fs.readdirSync(runs).sort()).toEqual(ids.slice(1));
    expect(fs.readFileSync(path.join(runs, ids[2]!, "logs/baseline/gateway.jsonl"), "utf8")).toBe(ids[2]);
    expect(fs.readdirSync(latest)).toEqual(["notes.txt"]);
  });

  test("a folder no run wrote is left alone", () => {
    fs.mkdirSync(path.join(latest, "logs"), { recursive: true });
    fs.writeFileSync(path.join(latest, "report.html"), "the user's");
    prepareReportDir(latest, 0);
    expect(fs.readdirSync(latest).sort()).toEqual(["logs", "report.html"]);
  });

  test("a run's own files that its marker does not list are left alone (a verdict.json and logs of the user's)", () => {
    run("20261207T010000000Z-aaaaaa");
    fs.writeFileSync(path.join(latest, OUTPUTS_MARKER), "verdict.json\n../notes.txt\n");
    prepareReportDir(latest, 0);
    expect(fs.readdirSync(latest).sort()).toEqual([
      "evidence.json.gz",
      "junit.xml",
      "logs",
      "notes.txt",
      "report.html",
    ]);
  });

  test("an unwritable report dir is a one-line error naming the folder and the fix, before anything is removed", () => {
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "");
    expect(() => prepareReportDir(path.join(file, "latest"), 0)).toThrow(
      `--report-dir ${path.join(file, "latest")} is not writable (ENOTDIR): give a folder you can write to with --report-dir, or fix its permissions`,
    );
  });
});
