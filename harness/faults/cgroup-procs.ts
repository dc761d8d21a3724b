/**
 * What /proc says about processes, for the cgroup faults: a process's parent, process group, start time and CPU
 * time, the process tree a fault covers, and the cgroup a process is in on a given hierarchy.
 */
import fs from "node:fs";

/** The fields of /proc/<pid>/stat the cgroup faults use. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** One-letter state: R, S, D, Z, T (stopped), ... */
  state: string;
  /** Start time in clock ticks since boot: with the pid, it names a process even after pid reuse. */
  startTicks: number;
  /** utime + stime of all its threads, in clock ticks. */
  cpuTicks: number;
}

/** /proc/<pid>/stat parsed, or undefined once the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ")" are plain.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  return {
    pid,
    ppid: field(4),
    pgrp: field(5),
    state: fields[0] ?? "?",
    startTicks: field(22),
    cpuTicks: field(14) + field(15),
  };
}

/** Every process visible in /proc. */
export function allProcesses(): ProcStat[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(Number(entry)))
    .filter((stat): stat is ProcStat => stat !== undefined);
}

/** This process and its ancestors up to pid 1: a fault must never move them. */
export function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 0 && !chain.has(pid);) {
    chain.add(pid);
    pid = readStat(pid)?.ppid ?? 0;
  }
  return chain;
}

/**
 * The processes a fault on `pids` covers: the pids themselves, every member of a process group one of them leads,
 * and the descendants of all of those (zombies and `exclude` left out).
 */
export function processTree(pids: readonly number[], exclude: ReadonlySet<number>): number[] {
  const processes = allProcesses().filter((p) => p.state !== "Z" && !exclude.has(p.pid));
  const leaders = new Set(pids);
  const covered = new Set(pids.filter((pid) => !exclude.has(pid)));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of processes) {
      if (covered.has(p.pid) || !(leaders.has(p.pgrp) || covered.has(p.ppid))) continue;
      covered.add(p.pid);
      grew = true;
    }
  }
  return [...covered];
}

/**
 * The cgroup path of `pid` on a hierarchy, from /proc/<pid>/cgroup: the v2 line ("0::/path") when `controller` is
 * empty, else the v1 line listing that controller. Undefined once the process is gone.
 */
export function cgroupPathOf(pid: number, controller: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match;
    const fits = controller === "" ? id === "0" && controllers === "" : controllers!.split(",").includes(controller);
    if (fits) return cgroupPath!.replace(/ \(deleted\)$/, "");
  }
  return undefined;
}
