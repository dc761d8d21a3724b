/**
 * The fault journal on disk: what undoes each fault the harness applies, written before it is applied and closed
 * after its revert, so that a harness killed in between (kill -9, OOM) leaves nothing behind. Whoever closes an entry
 * says so: the harness (its own revert), the lifeline (its reaper, when the harness died), or next-run (a later
 * harness, on start, for a journal whose harness and lifeline both died).
 *
 * One file per harness process: $MESHPROOF_RUN_ROOT/fault-journals/<pid>-<start ticks>.jsonl. The run root, not the
 * tool cache: it is per machine and user like the faults it records (Toxiproxy and the services keep them in memory,
 * gone at reboot with $TMPDIR), every run of that user finds it, and a test gives its runs a run root of their own.
 * One JSON event a line, appended (a kill -9 cuts at most the last line, which is ignored). The directory is 0700
 * and the files 0600: an admin API's token, needed to revert its faults, is in them.
 */
import fs from "node:fs";
import path from "node:path";
import { runRootDir } from "../config/env";
import { readStat } from "./cgroup-procs";

/** Who reverted a fault. */
export type RevertedBy = "harness" | "lifeline" | "next-run";

/**
 * What undoes a fault without the harness, by the means it was applied with; `none` says why nothing outside the
 * harness can (and what does instead). Each kind's own file (network.ts, admin.ts, process.ts) makes and reverts it.
 */
export type Leftover =
  | { via: "toxiproxy"; url: string; proxy: string; enable: boolean; toxics: string[] }
  | { via: "admin"; url: string; token: string; spec: Record<string, unknown>; faultId?: string }
  | { via: "signal"; pid: number; startTicks?: number; signal: "SIGCONT" }
  | { via: "load" }
  | { none: string };

/** One line of a journal file. */
export type JournalEvent =
  | { event: "open"; pid: number; startTicks: number; lifelinePid?: number; lifelineStartTicks?: number; atMs: number }
  | { event: "applying"; key: string; id: string; kind: string; target: string; leftover: Leftover; atMs: number }
  | { event: "applied"; key: string; leftover?: Leftover; atMs: number }
  | { event: "reverted"; key: string; by: RevertedBy; atMs: number; note?: string }
  | { event: "revert-failed"; key: string; by: RevertedBy; error: string; atMs: number }
  | { event: "left"; key: string; by: RevertedBy; reason: string; atMs: number };

/** A journal entry as its events leave it. */
export interface JournalEntry {
  key: string;
  id: string;
  kind: string;
  target: string;
  leftover: Leftover;
  state: "open" | "reverted" | "left";
  by?: RevertedBy;
  /** The last failed revert's error (the entry stays open). */
  error?: string;
  reason?: string;
}

/** The directory of the journals. */
export function journalDir(root = runRootDir()): string {
  return path.join(root, "fault-journals");
}

/** Reads a journal file: its header and its entries (a cut last line is skipped). */
export function readJournal(file: string): {
  owner?: Extract<JournalEvent, { event: "open" }>;
  entries: JournalEntry[];
} {
  const entries = new Map<string, JournalEntry>();
  let owner: Extract<JournalEvent, { event: "open" }> | undefined;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    let e: JournalEvent;
    try {
      e = JSON.parse(line) as JournalEvent;
    } catch {
      continue;
    }
    if (e.event === "open") owner = e;
    else if (e.event === "applying")
      entries.set(e.key, { key: e.key, id: e.id, kind: e.kind, target: e.target, leftover: e.leftover, state: "open" });
    else {
      const entry = entries.get(e.key);
      if (!entry) continue;
      if (e.event === "applied") {
        if (e.leftover) entry.leftover = e.leftover;
      } else if (e.event === "reverted") Object.assign(entry, { state: "reverted", by: e.by, error: undefined });
      else if (e.event === "revert-failed") Object.assign(entry, { error: e.error, by: e.by });
      else Object.assign(entry, { state: "left", by: e.by, reason: e.reason });
    }
  }
  return { ...(owner ? { owner } : {}), entries: [...entries.values()] };
}

function append(file: string, event: JournalEvent): void {
  fs.appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}

/** Whether the process of this pid and start time is still running (its pid not reused since). */
export function processAlive(pid: number | undefined, startTicks: number | undefined): boolean {
  if (!pid) return false;
  const stat = readStat(pid);
  if (stat) return startTicks === undefined || stat.startTicks === startTicks;
  try {
    process.kill(pid, 0);
    // No /proc: a live pid is taken for the owner.
    return !fs.existsSync("/proc/self/stat");
  } catch {
    return false;
  }
}

/** This process's journal, written as faults are applied and reverted. */
export class DiskJournal {
  private count = 0;

  private constructor(readonly file: string) {}

  /**
   * Creates this process's journal file; `watch` hands its path to the lifeline and returns the lifeline's pid (the
   * header names this process and its lifeline: a later run leaves the journal alone while either lives).
   */
  static create(watch: (file: string) => number | undefined, dir = journalDir()): DiskJournal {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const self = readStat(process.pid);
    const file = path.join(dir, `${process.pid}-${self?.startTicks ?? Date.now()}.jsonl`);
    const lifelinePid = watch(file);
    const lifelineStartTicks = lifelinePid === undefined ? undefined : readStat(lifelinePid)?.startTicks;
    append(file, {
      event: "open",
      pid: process.pid,
      startTicks: self?.startTicks ?? 0,
      ...(lifelinePid === undefined ? {} : { lifelinePid }),
      ...(lifelineStartTicks === undefined ? {} : { lifelineStartTicks }),
      atMs: Date.now(),
    });
    return new DiskJournal(file);
  }

  /** Records a fault about to be applied and what undoes it; returns its key in this journal. */
  applying(fault: { id: string; kind: string; target: string }, leftover: Leftover): string {
    const key = `k${++this.count}`;
    append(this.file, { event: "applying", key, ...fault, leftover, atMs: Date.now() });
    return key;
  }

  /** Records what applying it taught (an id the fault's means gave it). */
  applied(key: string, leftover?: Leftover): void {
    append(this.file, { event: "applied", key, ...(leftover ? { leftover } : {}), atMs: Date.now() });
  }

  reverted(key: string, by: RevertedBy): void {
    append(this.file, { event: "reverted", key, by, atMs: Date.now() });
  }

  revertFailed(key: string, by: RevertedBy, error: string): void {
    append(this.file, { event: "revert-failed", key, by, error, atMs: Date.now() });
  }
}

/** How a leftover is reverted without the harness, by its means (each kind's own file does it). */
async function revertLeftover(leftover: Leftover): Promise<string | void> {
  if ("none" in leftover || leftover.via === "load") return;
  if (leftover.via === "toxiproxy") return (await import("./network")).revertLinkLeftover(leftover);
  if (leftover.via === "admin") return (await import("./admin")).revertAdminLeftover(leftover);
  return (await import("./process")).revertSignalLeftover(leftover);
}

/** What reverting a journal's open entries did. */
export interface LeftoverRevert {
  file: string;
  reverted: JournalEntry[];
  failed: { entry: JournalEntry; error: string }[];
  left: JournalEntry[];
}

/**
 * Reverts every open entry of a journal (its harness gone), recording who did: each revert once, all at once, none
 * stopping the others. An entry nothing outside the harness can revert is closed as "left", with the reason.
 */
export async function revertOpenEntries(file: string, by: RevertedBy): Promise<LeftoverRevert> {
  const result: LeftoverRevert = { file, reverted: [], failed: [], left: [] };
  const open = readJournal(file).entries.filter((e) => e.state === "open");
  await Promise.all(
    open.map(async (entry) => {
      if ("none" in entry.leftover) {
        append(file, { event: "left", key: entry.key, by, reason: entry.leftover.none, atMs: Date.now() });
        result.left.push(entry);
        return;
      }
      try {
        const note = await revertLeftover(entry.leftover);
        append(file, { event: "reverted", key: entry.key, by, ...(note ? { note } : {}), atMs: Date.now() });
        result.reverted.push(entry);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        append(file, { event: "revert-failed", key: entry.key, by, error: message, atMs: Date.now() });
        result.failed.push({ entry, error: message });
      }
    }),
  );
  return result;
}

/** A fault for a line: "link-down orders-redis (fault-1)". */
export function describeEntry(e: JournalEntry): string {
  return `${e.kind} ${e.target} (${e.id})`;
}

/**
 * On a run's start: reverts the faults left open by journals whose harness and lifeline are both gone (the lifeline
 * reverts them itself when it outlives its harness). Returns one line per journal that had any, saying what was
 * reverted, what failed and what nothing could revert, naming the journal.
 */
export async function revertAbandonedFaults(dir = journalDir()): Promise<string[]> {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    const { owner, entries } = readJournal(file);
    if (!entries.some((e) => e.state === "open")) continue;
    if (owner && processAlive(owner.pid, owner.startTicks)) continue;
    if (owner && processAlive(owner.lifelinePid, owner.lifelineStartTicks)) continue;
    const done = await revertOpenEntries(file, "next-run");
    const parts = [
      ...(done.reverted.length ? [`reverted ${done.reverted.map(describeEntry).join(", ")}`] : []),
      ...done.failed.map((f) => `could not revert ${describeEntry(f.entry)}: ${f.error}`),
      ...done.left.map((e) => `cannot revert ${describeEntry(e)}: ${(e.leftover as { none: string }).none}`),
    ];
    lines.push(
      `faults left open by a harness that died (pid ${owner?.pid ?? "?"}): ${parts.join("; ")}; journal ${file}`,
    );
  }
  return lines;
}
