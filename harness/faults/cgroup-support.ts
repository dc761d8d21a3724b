/**
 * Which cgroup hierarchy throttles CPU and which freezes on this machine, found by probing: a group is made under
 * `<mount>/meshproof/` and its control files checked, so "supported" means meshproof could actually write there.
 */
import fs from "node:fs";
import path from "node:path";
import {
  CgroupError,
  cgroupMounts,
  cpuV1,
  cpuV2,
  errnoOf,
  freezeV1,
  freezeV2,
  readControl,
  cgroupError,
  type CgroupMount,
  type CpuDriver,
  type FreezeDriver,
} from "./cgroup-fs";
import { readStat } from "./cgroup-procs";

/** Whether a cgroup fault can be applied here: how, or why not and what would make it work. */
export type Support = { ok: true; how: string } | { ok: false; reason: string };

/** Options of the cgroup faults. */
export interface CgroupOptions {
  /** How long a freeze, thaw or group removal may take before it fails. Default 5000. */
  deadlineMs?: number;
  /** The cgroup version to try first where both could serve (here: the freezer). Default "v2". */
  prefer?: "v1" | "v2";
  /** Only cgroup mounts at or below this path count. For tests: a temp dir simulates a machine without cgroups. */
  mountRoot?: string;
}

/** A hierarchy and the way a fault is written on it. */
export interface Chosen<Driver> {
  mount: CgroupMount;
  driver: Driver;
}

/** What this machine offers for each fault: the hierarchy to use, or the reason there is none. */
export interface CgroupPlan {
  cpu: Chosen<CpuDriver> | string;
  freeze: Chosen<FreezeDriver> | string;
}

const CPU_REMEDY =
  "to make it work: mount a writable cgroup v2 with the cpu controller (pure v2) or a cgroup v1 cpu hierarchy " +
  "(in a container: --privileged, or --cgroupns=private with /sys/fs/cgroup read-write)";
const FREEZE_REMEDY =
  "to make it work: mount a writable cgroup v2 (Linux 5.2 or later) or a cgroup v1 freezer hierarchy " +
  "(in a container: --privileged, or --cgroupns=private with /sys/fs/cgroup read-write)";

/** This process as a group-name suffix: the pid and its start time, so that a reused pid is not mistaken for it. */
export const OWNER_TAG = `owner-${process.pid}-${readStat(process.pid)?.startTicks ?? 0}`;

/** The `meshproof` parent group on a mount. */
export const parentDir = (mount: CgroupMount): string => path.join(mount.point, "meshproof");

/** Probes the mounts and picks a hierarchy for each fault. */
export function detect(options: CgroupOptions = {}): CgroupPlan {
  const mounts = cgroupMounts(options.mountRoot);
  const where = options.mountRoot ? ` under ${options.mountRoot}` : "";
  const order: (1 | 2)[] = options.prefer === "v1" ? [1, 2] : [2, 1];
  const cpuReasons: string[] = [];
  const freezeReasons: string[] = [];
  let cpu: Chosen<CpuDriver> | undefined;
  let freeze: Chosen<FreezeDriver> | undefined;
  for (const version of order) {
    const v2 = mounts.find((m) => m.version === 2);
    const cpuMount = version === 2 ? v2 : mounts.find((m) => m.version === 1 && m.controllers.includes("cpu"));
    const freezeMount = version === 2 ? v2 : mounts.find((m) => m.version === 1 && m.controllers.includes("freezer"));
    if (!cpu) {
      const driver = version === 2 ? cpuV2 : cpuV1;
      if (!cpuMount)
        cpuReasons.push(`no cgroup v${version}${version === 1 ? " cpu hierarchy" : ""} is mounted${where}`);
      else if (version === 2 && !cpuMount.controllers.includes("cpu"))
        cpuReasons.push(
          `cgroup v2 at ${cpuMount.point} has no cpu controller (it has: ${cpuMount.controllers.join(" ") || "none"})`,
        );
      else cpu = chosenIfWorks(cpuMount, driver, true, cpuReasons);
    }
    if (!freeze) {
      const driver = version === 2 ? freezeV2 : freezeV1;
      if (!freezeMount)
        freezeReasons.push(`no cgroup v${version}${version === 1 ? " freezer hierarchy" : ""} is mounted${where}`);
      else freeze = chosenIfWorks(freezeMount, driver, false, freezeReasons);
    }
  }
  return {
    cpu: cpu ?? `CPU throttling through cgroups is not available: ${cpuReasons.join("; ")}; ${CPU_REMEDY}`,
    freeze: freeze ?? `freezing through cgroups is not available: ${freezeReasons.join("; ")}; ${FREEZE_REMEDY}`,
  };
}

/** The plan entry as a Support. */
export function supportOf(chosen: Chosen<CpuDriver | FreezeDriver> | string): Support {
  return typeof chosen === "string"
    ? { ok: false, reason: chosen }
    : { ok: true, how: `${chosen.driver.how} at ${chosen.mount.point}` };
}

function chosenIfWorks<Driver extends CpuDriver | FreezeDriver>(
  mount: CgroupMount,
  driver: Driver,
  needsCpu: boolean,
  reasons: string[],
): Chosen<Driver> | undefined {
  const reason = probe(mount, driver.file, needsCpu);
  if (reason === undefined) return { mount, driver };
  reasons.push(reason);
  return undefined;
}

/** Undefined when a new group on `mount` gets `file`; else why not. Leaves nothing behind it did not find. */
function probe(mount: CgroupMount, file: string, needsCpu: boolean): string | undefined {
  const label = `cgroup v${mount.version} at ${mount.point}`;
  if (mount.readOnly) return `${label} is mounted read-only`;
  const parent = parentDir(mount);
  const hadParent = fs.existsSync(parent);
  const dir = path.join(parent, `probe.${OWNER_TAG}`);
  try {
    makeGroup(mount, dir, needsCpu);
    if (!fs.existsSync(path.join(dir, file)))
      return `a new group in ${label} has no ${file}${file === "cgroup.freeze" ? " (the v2 freezer needs Linux 5.2 or later)" : ""}`;
    return undefined;
  } catch (error) {
    return `${label}: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    removeQuietly(dir);
    if (!hadParent) removeQuietly(parent);
  }
}

/**
 * Creates the group `dir` under the meshproof parent of `mount`, the parent first. On v2 with `needsCpu`, the cpu
 * controller is enabled for the children of the mount's top and of the parent (cpu.max exists only then).
 */
export function makeGroup(mount: CgroupMount, dir: string, needsCpu: boolean): void {
  const parent = parentDir(mount);
  // Another meshproof may remove the parent between our two mkdirs (it removes it once empty): try again.
  for (let attempt = 1; ; attempt++) {
    if (needsCpu && mount.version === 2) enableCpu(mount.point);
    mkdirOnce(parent, "create the meshproof parent group");
    if (needsCpu && mount.version === 2) enableCpu(parent);
    try {
      fs.mkdirSync(dir);
      return;
    } catch (error) {
      if (errnoOf(error) === "ENOENT" && attempt < 3) continue;
      const hint = errnoOf(error) === "EEXIST" ? "; destroy() the earlier group of that name first" : "";
      throw cgroupError(`create the group${hint}`, dir, error);
    }
  }
}

function mkdirOnce(dir: string, attempt: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if (errnoOf(error) !== "EEXIST") throw cgroupError(attempt, dir, error);
  }
}

function enableCpu(dir: string): void {
  const file = path.join(dir, "cgroup.subtree_control");
  if (readControl(file, "read the enabled controllers").split(/\s+/).includes("cpu")) return;
  try {
    fs.writeFileSync(file, "+cpu");
  } catch (error) {
    if (errnoOf(error) !== "EBUSY")
      throw cgroupError(`enable the cpu controller below ${dir} (writing "+cpu")`, file, error);
    throw new CgroupError(
      `could not enable the cpu controller below ${dir}: ${file}: EBUSY; the group has processes of its own, and ` +
        `cgroup v2 enables controllers only below groups without: move them to a leaf group first (mkdir ` +
        `${path.join(dir, "init")}, write each pid to its cgroup.procs)`,
      "EBUSY",
    );
  }
}

/** rmdir, ignoring a group that is gone or still in use (the meshproof parent while another group lives). */
export function removeQuietly(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Gone already, or still holding a group or a process: whoever owns that removes it.
  }
}
