import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { lifeline } from "../lifeline/lifeline";

export interface ManagedProcessOptions {
  /** Short name used in messages ("prometheus"). */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr of the process are appended here. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A child process in its own process group, logging to a file, registered with the lifeline so it cannot outlive
 * the harness. stop() is idempotent: SIGTERM to the group, SIGKILL after graceMs.
 */
export class ManagedProcess {
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  exitDescription: string | undefined;
  /** The exit code, once exited normally (null while running or when killed by a signal). */
  exitCode: number | null = null;
  /** The signal that ended the process, if one did. */
  exitSignal: NodeJS.Signals | null = null;

  private constructor(
    readonly options: ManagedProcessOptions,
    child: ChildProcess,
  ) {
    this.child = child;
    this.pid = child.pid!;
    this.exited = once(child, "exit").then(([code, signal]) => {
      this.exitCode = code as number | null;
      this.exitSignal = signal as NodeJS.Signals | null;
      this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
      lifeline.release(this.pid);
    });
  }

  static async spawn(options: ManagedProcessOptions): Promise<ManagedProcess> {
    const log = fs.openSync(options.logFile, "a");
    try {
      const child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ["ignore", log, log],
      });
      const [spawnError] = await Promise.race([once(child, "spawn").then(() => [undefined]), once(child, "error")]);
      if (spawnError) throw new Error(`could not start ${options.name} (${options.command}): ${spawnError.message}`);
      lifeline.watch(child.pid!);
      return new ManagedProcess(options, child);
    } finally {
      fs.closeSync(log);
    }
  }

  get running(): boolean {
    return this.exitDescription === undefined;
  }

  /** The last n lines of the process's log file. */
  logTail(lines = 20): string {
    try {
      const text = fs.readFileSync(this.options.logFile, "utf8").trimEnd();
      return text.split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Resolves when the process has exited (by itself or stopped). */
  waitForExit(): Promise<void> {
    return this.exited;
  }

  /** Sends `signal` (default SIGTERM) to the process group, SIGKILL after graceMs. Idempotent. */
  stop(graceMs = 3_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.running) return;
      this.signal(signal);
      const killed = await Promise.race([this.exited.then(() => false), sleep(graceMs, true, { ref: false })]);
      if (killed) this.signal("SIGKILL");
      await this.exited;
    })();
    return this.stopping;
  }

  /** Sends a signal to the process group (a process fault: SIGKILL, SIGSTOP, SIGCONT); a gone process is fine. */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}
