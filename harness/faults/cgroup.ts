/**
 * CPU throttling and freezing of processes meshproof launched, from outside, through cgroups: the processes are moved
 * into a group of their own (`<mount>/meshproof/<name>-<pid>.owner-<meshproof pid>-<start>`) per hierarchy used, and
 * the group is limited, frozen or stalled. Works on cgroup v1, v2 and the hybrid of both; cgroupSupport() tells which.
 *
 * Processes that fork after the move are caught: a child starts in its parent's cgroup. A process that left its
 * process group and the tree (setsid + reparenting) before the move is not.
 */
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../errors";
import { retryUntil } from "../util/retry";
import { releaseGroup, removeGroup, removeStaleGroups, type Group, type StaleCleanup } from "./cgroup-cleanup";
import { CgroupError, currentDirOf, movePid, pidsIn, type CgroupMount } from "./cgroup-fs";
import { startStall, type StopStall } from "./cgroup-stall";
import { processTree, readStat, selfAndAncestors } from "./cgroup-procs";
import {
  detect,
  makeGroup,
  OWNER_TAG,
  parentDir,
  removeQuietly,
  supportOf,
  type CgroupOptions,
  type CgroupPlan,
  type Support,
} from "./cgroup-support";

export { CgroupError } from "./cgroup-fs";
export type { CgroupOptions, Support } from "./cgroup-support";
export type { StaleCleanup } from "./cgroup-cleanup";
export type { StallSummary, StopStall } from "./cgroup-stall";

/** Whether this machine lets meshproof throttle CPU and freeze through cgroups; probes by making a group. */
export function cgroupSupport(options: CgroupOptions = {}): { cpu: Support; freeze: Support } {
  const plan = detect(options);
  return { cpu: supportOf(plan.cpu), freeze: supportOf(plan.freeze) };
}

const DEFAULT_DEADLINE_MS = 5_000;
/** Scans for processes forked while the tree was being moved; each pass catches the forks of the one before. */
const MOVE_PASSES = 5;
const live = new Set<ProcessCgroup>();

/**
 * The processes of one launched service in a cgroup of their own. destroy() (or `await using`) undoes everything; a
 * process "exit" handler undoes what is left if the caller never gets there, and cleanupStale() what a run that was
 * killed left behind.
 */
export class ProcessCgroup implements AsyncDisposable {
  private readonly origins = new Map<number, Map<string, string>>();
  private stall: StopStall | undefined;
  private pending: Promise<void> | undefined;
  private destroyed = false;

  private constructor(
    /** The name given to create(). */
    readonly name: string,
    /** The pids given to create(). */
    readonly pids: readonly number[],
    private readonly plan: CgroupPlan,
    /** The group per hierarchy used; emptied by destroy(). */
    readonly groups: Group[],
    private readonly deadlineMs: number,
    private readonly options: CgroupOptions,
  ) {}

  /**
   * Makes the groups (one per hierarchy needed) and moves into them every given pid with all its threads, the members
   * of the process groups they lead, and their descendants. Throws CgroupError when cgroups are unusable here (the
   * reason from cgroupSupport()) or a pid does not exist; ConfigError for a bad name or for meshproof's own process.
   */
  static async create(name: string, pids: readonly number[], options: CgroupOptions = {}): Promise<ProcessCgroup> {
    if (!/^[\w-]{1,64}$/.test(name)) throw new ConfigError(`cgroup name "${name}" must be 1-64 of [A-Za-z0-9_-]`);
    const self = selfAndAncestors();
    const invalid = pids.filter((pid) => !Number.isInteger(pid) || pid <= 1 || self.has(pid));
    if (pids.length === 0 || invalid.length > 0)
      throw new ConfigError(
        `cgroup ${name} needs pids of launched processes, not meshproof or its ancestors (${invalid})`,
      );
    const plan = detect(options);
    if (typeof plan.cpu === "string" && typeof plan.freeze === "string")
      throw new CgroupError(`cannot put ${name} in a cgroup: ${plan.cpu}; ${plan.freeze}`);
    const gone = pids.filter((pid) => !readStat(pid));
    if (gone.length > 0)
      throw new CgroupError(`cannot put ${name} in a cgroup: no process ${gone.join(", ")} (exited?)`);
    const leaf = `${name}-${pids[0]}.${OWNER_TAG}`;
    const mounts = [...new Set([plan.cpu, plan.freeze].flatMap((c) => (typeof c === "string" ? [] : [c.mount])))];
    const groups = mounts.map((mount) => ({ mount, dir: path.join(parentDir(mount), leaf) }));
    const cgroup = new ProcessCgroup(name, [...pids], plan, groups, options.deadlineMs ?? DEFAULT_DEADLINE_MS, options);
    const cpuMount = typeof plan.cpu === "string" ? undefined : plan.cpu.mount;
    track(cgroup);
    try {
      for (const group of groups) makeGroup(group.mount, group.dir, group.mount === cpuMount);
      cgroup.moveIn(self);
    } catch (error) {
      cgroup.releaseNow();
      throw error;
    }
    return cgroup;
  }

  /** The pids now in the group (moved ones and their later children, less those that exited). */
  members(): number[] {
    return this.groups[0] ? pidsIn(this.groups[0].dir) : [];
  }

  /** Limits the whole group to `fraction` of one core (0.05 up to the number of cores). */
  async limitCpu(fraction: number): Promise<void> {
    const cpu = this.chosen("cpu");
    const cores = os.availableParallelism();
    if (!(fraction >= 0.05 && fraction <= cores))
      throw new ConfigError(`CPU fraction must be between 0.05 and ${cores} (cores here), got ${fraction}`);
    cpu.driver.limit(this.dirOn(cpu.mount), fraction);
  }

  /** Lifts the CPU limit. */
  async unlimitCpu(): Promise<void> {
    const cpu = this.chosen("cpu");
    cpu.driver.unlimit(this.dirOn(cpu.mount));
  }

  /** Freezes the group; resolves once the kernel reports it frozen. On timeout it thaws it again and throws. */
  async freeze(): Promise<void> {
    this.chosen("freeze");
    await this.setFrozen(true);
  }

  /** Thaws the group; resolves once the kernel reports it thawed. */
  async thaw(): Promise<void> {
    this.chosen("freeze");
    await this.setFrozen(false);
  }

  /**
   * Freezes the group for blockMs at the start of every everyMs, for durationMs at most (then it stops itself,
   * thawed). Returns the function that stops it early. One stall at a time per group.
   */
  stallEvery(blockMs: number, everyMs: number, durationMs: number): StopStall {
    this.chosen("freeze");
    if (this.stall) throw new CgroupError(`${this.name} is already being stalled; stop that stall first`);
    const stop = startStall(
      (frozen) => this.setFrozen(frozen),
      { blockMs, everyMs, durationMs },
      () => {
        if (this.stall === stop) this.stall = undefined;
      },
    );
    this.stall = stop;
    return stop;
  }

  /**
   * Stops a stall, thaws, lifts the CPU limit, moves every process back to the group it came from (its parent's for
   * children born inside; the top if that group is gone), removes the groups, then what earlier runs left
   * (cleanupStale). Idempotent; processes that exited meanwhile are fine. Throws CgroupError naming what is left.
   */
  async destroy(): Promise<void> {
    this.pending ??= this.teardown().finally(() => (this.pending = undefined));
    return this.pending;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  private async teardown(): Promise<void> {
    this.destroyed = true;
    const failures: string[] = [];
    await this.stall?.().catch((error: unknown) => failures.push(`the stall: ${messageOf(error)}`));
    for (const group of [...this.groups]) {
      try {
        await removeGroup(group, (pid) => this.originOf(pid, group.mount), this.deadlineMs);
        this.groups.splice(this.groups.indexOf(group), 1);
        removeQuietly(parentDir(group.mount));
      } catch (error) {
        failures.push(messageOf(error));
      }
    }
    if (this.groups.length === 0) live.delete(this);
    failures.push(...(await cleanupStale(this.options)).failures);
    if (failures.length > 0)
      throw new CgroupError(`destroying cgroup ${this.name} left work undone: ${failures.join("; ")}`);
  }

  /** Synchronous best-effort undo, for a failed create() and the process "exit" handler; prefer destroy(). */
  releaseNow(): void {
    for (const group of this.groups) {
      try {
        releaseGroup(group, (pid) => this.originOf(pid, group.mount));
        removeQuietly(group.dir);
        removeQuietly(parentDir(group.mount));
      } catch {
        // Best effort: cleanupStale() of the next run finishes the job.
      }
    }
    live.delete(this);
  }

  private moveIn(self: ReadonlySet<number>): void {
    const moved = new Set<number>();
    for (let pass = 0; pass < MOVE_PASSES; pass++) {
      const fresh = processTree(this.pids, self).filter((pid) => !moved.has(pid));
      if (fresh.length === 0) return;
      for (const pid of fresh) {
        moved.add(pid);
        const origins = new Map(this.groups.map((g) => [g.mount.point, currentDirOf(pid, g.mount)]));
        this.origins.set(pid, origins);
        for (const group of this.groups) if (!movePid(pid, group.dir, `put ${this.name} in its cgroup`)) break;
      }
    }
  }

  private originOf(pid: number, mount: CgroupMount): string {
    for (let at: number | undefined = pid; at && at > 1; at = readStat(at)?.ppid) {
      const origin = this.origins.get(at)?.get(mount.point);
      if (origin) return origin;
    }
    return this.origins.get(this.pids[0]!)?.get(mount.point) ?? mount.point;
  }

  private chosen<K extends keyof CgroupPlan>(what: K): Exclude<CgroupPlan[K], string> {
    if (this.destroyed) throw new CgroupError(`cgroup ${this.name} has been destroyed`);
    const chosen = this.plan[what];
    if (typeof chosen === "string") throw new CgroupError(chosen);
    return chosen as Exclude<CgroupPlan[K], string>;
  }

  private dirOn(mount: CgroupMount): string {
    return this.groups.find((g) => g.mount === mount)!.dir;
  }

  private async setFrozen(frozen: boolean): Promise<void> {
    const { mount, driver } = this.plan.freeze as Exclude<CgroupPlan["freeze"], string>;
    const dir = this.dirOn(mount);
    const target = frozen ? "frozen" : "thawed";
    driver.request(dir, frozen);
    try {
      await retryUntil(
        async () => driver.state(dir),
        (state) => state === target,
        {
          timeoutMs: this.deadlineMs,
          description: `${this.name} ${target} (${path.join(dir, driver.stateFile)})`,
          initialDelayMs: 1,
          maxDelayMs: 10,
        },
      );
    } catch (error) {
      if (!frozen) throw error;
      // A half-frozen group stalls the service for good: undo the request before reporting.
      driver.request(dir, false);
      throw new CgroupError(
        `${this.name} did not freeze; thawed it again (a process in uninterruptible sleep, state D, delays a ` +
          `freeze): ${messageOf(error)}`,
      );
    }
  }
}

/**
 * Removes the `meshproof/*` groups left by meshproof processes that are gone (and this process's own that no
 * ProcessCgroup holds any more): thawed, unlimited, live processes moved to the top of their hierarchy first.
 */
export async function cleanupStale(options: CgroupOptions = {}): Promise<StaleCleanup> {
  const ours = new Set([...live].flatMap((c) => c.groups.map((g) => g.dir)));
  return removeStaleGroups(ours, options.deadlineMs ?? DEFAULT_DEADLINE_MS, options.mountRoot);
}

let exitHooked = false;

function track(cgroup: ProcessCgroup): void {
  if (!exitHooked) process.on("exit", () => [...live].forEach((c) => c.releaseNow()));
  exitHooked = true;
  live.add(cgroup);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
