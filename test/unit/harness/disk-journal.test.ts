import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readJournal, revertAbandonedFaults, type JournalEvent } from "../../../harness/faults/disk-journal";
import { readStat } from "../../../harness/faults/cgroup-procs";

function journal(dir: string, name: string, events: JournalEvent[], tail = ""): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join("") + tail);
  return file;
}

const CGROUP_FAULT: JournalEvent = {
  event: "applying",
  key: "k1",
  id: "fault-1",
  kind: "cpu-throttle",
  target: "orders",
  leftover: { none: "only processes meshproof launched are put in a cgroup" },
  atMs: 1,
};

describe("the fault journal on disk", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-journal-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("an entry is open until a revert closes it; a failed revert leaves it open; a cut last line is skipped", () => {
    const file = journal(
      dir,
      "1-1.jsonl",
      [
        { event: "open", pid: 1, startTicks: 1, atMs: 0 },
        { ...CGROUP_FAULT, key: "k1" },
        { ...CGROUP_FAULT, key: "k2", id: "fault-2" },
        { event: "reverted", key: "k1", by: "harness", atMs: 2 },
        { event: "revert-failed", key: "k2", by: "harness", error: "Toxiproxy answered 500", atMs: 3 },
      ],
      '{"event":"reverted","key":"k2","by":"lif',
    );
    expect(readJournal(file).entries.map((e) => [e.id, e.state, e.by ?? null, e.error ?? null])).toEqual([
      ["fault-1", "reverted", "harness", null],
      ["fault-2", "open", "harness", "Toxiproxy answered 500"],
    ]);
  });

  test("a journal whose harness still runs is left alone by the next run", async () => {
    const self = readStat(process.pid)!;
    const file = journal(dir, "self.jsonl", [
      { event: "open", pid: process.pid, startTicks: self.startTicks, atMs: 0 },
      CGROUP_FAULT,
    ]);
    expect(await revertAbandonedFaults(dir)).toEqual([]);
    expect(readJournal(file).entries[0]!.state).toBe("open");
  });

  test("a dead harness's fault nothing outside it can revert is closed as left, with why, and said so", async () => {
    // Same pid, another start time: the pid was reused, the harness is gone.
    const file = journal(dir, "reused.jsonl", [
      { event: "open", pid: process.pid, startTicks: readStat(process.pid)!.startTicks - 1, atMs: 0 },
      CGROUP_FAULT,
    ]);
    expect(await revertAbandonedFaults(dir)).toEqual([
      `faults left open by a harness that died (pid ${process.pid}): cannot revert cpu-throttle orders (fault-1): only processes meshproof launched are put in a cgroup; journal ${file}`,
    ]);
    expect(readJournal(file).entries.map((e) => [e.state, e.by, e.reason])).toEqual([
      ["left", "next-run", "only processes meshproof launched are put in a cgroup"],
    ]);
    // Closed: the run after says nothing of it.
    expect(await revertAbandonedFaults(dir)).toEqual([]);
  });
});
