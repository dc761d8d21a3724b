/**
 * Undoing a cgroup fault: a group is thawed, unlimited, emptied (its processes moved back) and removed, whether it is
 * a live ProcessCgroup's or one left by a meshproof run that died.
 */
import fs from "node:fs";
import path from "node:path";
import { retryUntil } from "../util/retry";
import { cgroupError, cgroupMounts, errnoOf, movePid, pidsIn, UNDO_SETTINGS, type CgroupMount } from "./cgroup-fs";
import { readStat } from "./cgroup-procs";
import { parentDir, removeQuietly } from "./cgroup-support";

/** One group directory on one hierarchy. */
export interface Group {
  mount: CgroupMount;
  dir: string;
}

/** What cleanupStale() did. */
export interface StaleCleanup {
  /** The groups removed. */
  removed: string[];
  /** Live processes moved out of them (to the top of their hierarchy: where they came from died with that run). */
  movedPids: number[];
  /** What could not be undone, with the reason. */
  failures: string[];
}

/**
 * Removes the `meshproof/*` groups on every mount whose owner (the meshproof process named in the group's name, by
 * pid and start time) is gone, and those of this process not in `ours`. Leaves every other group alone.
 */
export async function removeStaleGroups(
  ours: ReadonlySet<string>,
  deadlineMs: number,
  mountRoot?: string,
): Promise<StaleCleanup> {
  const result: StaleCleanup = { removed: [], movedPids: [], failures: [] };
  for (const mount of cgroupMounts(mountRoot)) {
    const parent = parentDir(mount);
    for (const entry of subgroups(parent)) {
      const dir = path.join(parent, entry);
      if (ours.has(dir) || !isStale(entry)) continue;
      try {
        const before = pidsIn(dir);
        await removeGroup({ mount, dir }, () => mount.point, deadlineMs);
        result.removed.push(dir);
        result.movedPids.push(...before);
      } catch (error) {
        result.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    removeQuietly(parent);
  }
  return result;
}

function isStale(entry: string): boolean {
  const owner = /\.owner-(\d+)-(\d+)$/.exec(entry);
  // Not named by meshproof: not ours to remove.
  if (!owner) return false;
  if (Number(owner[1]) === process.pid) return true;
  return readStat(Number(owner[1]))?.startTicks !== Number(owner[2]);
}

function subgroups(parent: string): string[] {
  try {
    return fs
      .readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw cgroupError("list the meshproof groups", parent, error);
  }
}

/**
 * Thaws and unlimits a group by the control files it has, and moves its processes to `destination(pid)` (to the top
 * of the hierarchy where that group is gone).
 */
export function releaseGroup({ mount, dir }: Group, destination: (pid: number) => string): void {
  for (const [file, value] of UNDO_SETTINGS) {
    const at = path.join(dir, file);
    // cgroupfs answers a write to a file it does not have with EACCES, not ENOENT: look first.
    if (!fs.existsSync(at)) continue;
    try {
      fs.writeFileSync(at, value);
    } catch (error) {
      if (fs.existsSync(dir)) throw cgroupError(`undo ${file} (writing "${value}")`, at, error);
    }
  }
  for (const pid of pidsIn(dir)) {
    const to = destination(pid);
    movePid(pid, fs.existsSync(to) ? to : mount.point, "move a process back");
  }
}

/** releaseGroup, then rmdir, again until the group is gone (a process may fork meanwhile) or deadlineMs has passed. */
export async function removeGroup(
  group: Group,
  destination: (pid: number) => string,
  deadlineMs: number,
): Promise<void> {
  await retryUntil(
    async () => {
      releaseGroup(group, destination);
      try {
        fs.rmdirSync(group.dir);
        return true;
      } catch (error) {
        if (errnoOf(error) === "ENOENT") return true;
        if (errnoOf(error) === "EBUSY") return false;
        throw cgroupError("remove the group", group.dir, error);
      }
    },
    (removed) => removed,
    { timeoutMs: deadlineMs, description: `${group.dir} emptied and removed`, maxDelayMs: 50 },
  );
}
