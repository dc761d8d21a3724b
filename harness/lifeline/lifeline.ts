import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

let reaper: ChildProcess | undefined;

function ensureReaper(): ChildProcess {
  if (reaper && reaper.exitCode === null && reaper.stdin?.writable) return reaper;
  reaper = spawn(process.execPath, [path.join(__dirname, "reaper.js")], {
    // Own session: a terminal's Ctrl-C or a kill of the harness's process group does not reach it.
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  reaper.unref();
  // The pipe must not keep the harness alive; its closing at our exit is the whole point.
  (reaper.stdin as unknown as { unref(): void }).unref();
  reaper.stdin?.on("error", () => undefined);
  return reaper;
}

/**
 * Ties process groups, containers and faults to the life of this process: whatever way this process ends, the reaper
 * reverts the faults its journal holds open, kills the groups still registered and force-removes every container
 * carrying a registered label. Register every
 * detached child right after spawning it (release it once it has exited), and a run's container label before
 * creating its first container.
 */
export const lifeline = {
  watch(pid: number): void {
    ensureReaper().stdin?.write(`+${pid}\n`);
  },
  release(pid: number): void {
    if (reaper?.stdin?.writable) reaper.stdin.write(`-${pid}\n`);
  },
  /** Containers labelled key=value are removed (docker rm -f) when this process ends. */
  watchContainers(label: string): void {
    if (!/^[\w.-]+=[\w.-]+$/.test(label)) throw new Error(`container label must be key=value (got "${label}")`);
    ensureReaper().stdin?.write(`L${label}\n`);
  },
  /**
   * The journal of faults on disk (disk-journal.ts): its entries still open are reverted when this process ends,
   * before anything is killed. Returns the reaper's pid.
   */
  watchJournal(file: string): number | undefined {
    const reaper = ensureReaper();
    reaper.stdin?.write(`J${file}\n`);
    return reaper.pid;
  },
  /** The reaper's pid (tests check it is gone too). */
  get pid(): number | undefined {
    return reaper?.pid;
  },
};
