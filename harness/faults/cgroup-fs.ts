/**
 * The cgroup filesystem as the cgroup faults use it: the hierarchies mounted (read from /proc/self/mountinfo), how a
 * CPU limit and a freeze are written on v1 and v2, and control-file operations whose errors say what was attempted,
 * on which file, with which errno, and what to do.
 *
 * Control files are read and written synchronously: they live in the kernel (no disk behind them), and synchronous
 * calls let a process "exit" handler undo a fault.
 */
import fs from "node:fs";
import path from "node:path";
import { MeshproofError } from "../errors";
import { cgroupPathOf, readStat } from "./cgroup-procs";

/** A failed cgroup operation; the message names the attempt, the file, the errno and the remedy. */
export class CgroupError extends MeshproofError {
  /** The errno code ("EACCES"), when a system call failed. */
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const HINTS: Record<string, string> = {
  EACCES: "run meshproof as root, or delegate the cgroup subtree to its user",
  EPERM: "run meshproof as root, or delegate the cgroup subtree to its user",
  EROFS:
    "the cgroup filesystem is read-only here; in a container, run it --privileged or with a writable /sys/fs/cgroup",
  ESRCH: "the process has exited",
  ENOENT: "the group is gone: something else removed it",
  EBUSY:
    "the group still holds processes or child groups (in cgroup v2 also: a controller cannot be enabled for the " +
    "children of a group that has processes of its own)",
  EINVAL: "the kernel rejected the value",
};

/** The errno code of a failed system call, if it is one. */
export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** A CgroupError for `attempt` ("freeze web: write FROZEN") on `file` that failed with `error`. */
export function cgroupError(attempt: string, file: string, error: unknown): CgroupError {
  const code = errnoOf(error);
  const hint = code ? HINTS[code] : undefined;
  const what = code ?? (error instanceof Error ? error.message : String(error));
  return new CgroupError(`could not ${attempt}: ${file}: ${what}${hint ? `; ${hint}` : ""}`, code, { cause: error });
}

/** Reads a control file; CgroupError on failure. */
export function readControl(file: string, attempt: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw cgroupError(attempt, file, error);
  }
}

/** Writes a control file in one write(2), as the kernel expects; CgroupError on failure. */
export function writeControl(file: string, value: string, attempt: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (error) {
    throw cgroupError(`${attempt} (writing "${value}")`, file, error);
  }
}

/** The pids in a group (its cgroup.procs); empty once the group is gone. */
export function pidsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw cgroupError("list the processes of a group", path.join(dir, "cgroup.procs"), error);
  }
}

/** Moves a process (all its threads) into the group `dir`; false when the process has exited. */
export function movePid(pid: number, dir: string, attempt: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
    return true;
  } catch (error) {
    if (errnoOf(error) === "ESRCH" || !readStat(pid)) return false;
    throw cgroupError(`${attempt} (moving pid ${pid})`, path.join(dir, "cgroup.procs"), error);
  }
}

/** A mounted cgroup hierarchy. */
export interface CgroupMount {
  version: 1 | 2;
  /** Where it is mounted. */
  point: string;
  /** The cgroup the mount shows (mountinfo field 4; "/" unless a container sees a subtree). */
  root: string;
  /** v1: the controllers bound to it; v2: those in its root's cgroup.controllers. */
  controllers: string[];
  readOnly: boolean;
}

const unescape = (text: string) =>
  text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(+`0o${octal}`));

/** The cgroup hierarchies in /proc/self/mountinfo, only those at or below `mountRoot` when given. */
export function cgroupMounts(mountRoot?: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const [, , , root, point, options] = (left ?? "").split(" ");
    const [fsType, , superOptions] = (right ?? "").split(" ");
    if ((fsType !== "cgroup" && fsType !== "cgroup2") || !root || !point || !options) continue;
    const at = unescape(point);
    if (mountRoot && at !== mountRoot && !at.startsWith(`${mountRoot.replace(/\/$/, "")}/`)) continue;
    const version = fsType === "cgroup2" ? 2 : 1;
    mounts.push({
      version,
      point: at,
      root: unescape(root),
      controllers: version === 1 ? (superOptions ?? "").split(",") : v2Controllers(at),
      readOnly: options.split(",").includes("ro"),
    });
  }
  return mounts;
}

function v2Controllers(point: string): string[] {
  try {
    return fs.readFileSync(path.join(point, "cgroup.controllers"), "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The directory of the group `pid` is in on a mount (the mount's top if that group is not visible there). */
export function currentDirOf(pid: number, mount: CgroupMount): string {
  const controller = mount.version === 2 ? "" : mount.controllers.includes("cpu") ? "cpu" : "freezer";
  const cgroupPath = cgroupPathOf(pid, controller);
  const root = mount.root === "/" ? "" : mount.root;
  if (cgroupPath === undefined || (cgroupPath !== root && !cgroupPath.startsWith(`${root}/`))) return mount.point;
  return path.join(mount.point, cgroupPath.slice(root.length));
}

/** How a CPU limit is written on one cgroup version. */
export interface CpuDriver {
  version: 1 | 2;
  /** The control file a new group must have. */
  file: string;
  how: string;
  limit(dir: string, fraction: number): void;
  unlimit(dir: string): void;
}

/** How a freeze is requested and observed on one cgroup version. */
export interface FreezeDriver {
  version: 1 | 2;
  file: string;
  how: string;
  /** The file whose content `state` reads, for messages. */
  stateFile: string;
  request(dir: string, frozen: boolean): void;
  state(dir: string): "frozen" | "thawed" | "changing";
}

export const cpuV1: CpuDriver = {
  version: 1,
  file: "cpu.cfs_quota_us",
  how: "cgroup v1 cpu (cfs quota)",
  limit(dir, fraction) {
    const period = Number(readControl(path.join(dir, "cpu.cfs_period_us"), "read the CFS period").trim());
    const quota = Math.max(1_000, Math.round(fraction * period));
    writeControl(path.join(dir, "cpu.cfs_quota_us"), String(quota), `limit CPU to ${fraction} of a core`);
  },
  unlimit: (dir) => writeControl(path.join(dir, "cpu.cfs_quota_us"), "-1", "lift the CPU limit"),
};

export const cpuV2: CpuDriver = {
  version: 2,
  file: "cpu.max",
  how: "cgroup v2 cpu.max",
  limit(dir, fraction) {
    const file = path.join(dir, "cpu.max");
    const period = Number(readControl(file, "read the CPU period").trim().split(/\s+/)[1] ?? 100_000);
    const quota = Math.max(1_000, Math.round(fraction * period));
    writeControl(file, `${quota} ${period}`, `limit CPU to ${fraction} of a core`);
  },
  unlimit: (dir) => writeControl(path.join(dir, "cpu.max"), "max", "lift the CPU limit"),
};

export const freezeV1: FreezeDriver = {
  version: 1,
  file: "freezer.state",
  how: "cgroup v1 freezer",
  stateFile: "freezer.state",
  request: (dir, frozen) =>
    writeControl(path.join(dir, "freezer.state"), frozen ? "FROZEN" : "THAWED", frozen ? "freeze" : "thaw"),
  state(dir) {
    const state = readControl(path.join(dir, "freezer.state"), "read the freezer state").trim();
    return state === "FROZEN" ? "frozen" : state === "THAWED" ? "thawed" : "changing";
  },
};

export const freezeV2: FreezeDriver = {
  version: 2,
  file: "cgroup.freeze",
  how: "cgroup v2 cgroup.freeze",
  stateFile: "cgroup.events",
  request: (dir, frozen) =>
    writeControl(path.join(dir, "cgroup.freeze"), frozen ? "1" : "0", frozen ? "freeze" : "thaw"),
  state(dir) {
    const events = readControl(path.join(dir, "cgroup.events"), "read cgroup.events");
    const frozen = /^frozen (\d)$/m.exec(events)?.[1] === "1";
    const wanted = readControl(path.join(dir, "cgroup.freeze"), "read cgroup.freeze").trim() === "1";
    return frozen === wanted ? (frozen ? "frozen" : "thawed") : "changing";
  },
};

/** Settings undone before a group is removed, by the files it has: whatever made it, it ends thawed and unlimited. */
export const UNDO_SETTINGS: readonly (readonly [file: string, value: string])[] = [
  ["freezer.state", "THAWED"],
  ["cgroup.freeze", "0"],
  ["cpu.cfs_quota_us", "-1"],
  ["cpu.max", "max"],
];
