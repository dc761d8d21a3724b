import { execFileSync } from "node:child_process";
import fs from "node:fs";
import type { ProcessSample } from "../../assertions/evidence";

export interface SampledProcess {
  service: string;
  /** Read at every tick: a restarted service has a new pid. Undefined when it has none the harness can see. */
  pid(): number | undefined;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (getconf CLK_TCK; 100 on Linux unless told otherwise). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** One reading of /proc/<pid>, or alive: false when the pid is gone (or is a zombie nobody reaped yet). */
export function readProcess(service: string, pid: number, atMs = Date.now()): ProcessSample {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0]!;
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return {
      service,
      atMs,
      pid,
      alive: state !== "Z" && state !== "X",
      state,
      cpuSeconds,
      ...(rss ? { rssBytes: Number(rss[1]) * 1024 } : {}),
    };
  } catch {
    return { service, atMs, pid, alive: false };
  }
}

/**
 * Reads /proc of every service's process every intervalMs for the whole run: ground truth for what a fault did to
 * the process (dead, stopped, its RSS and CPU), independent of the service's own telemetry. Synchronous reads of a
 * few small files: well under a millisecond per tick.
 */
export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly processes: readonly SampledProcess[],
    private readonly intervalMs = 200,
  ) {}

  /** Whether this machine has a /proc the sampler can read (Linux). */
  static available(): boolean {
    return fs.existsSync(`/proc/${process.pid}/stat`);
  }

  start(): this {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    return this;
  }

  stop(): ProcessSample[] {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.samples;
  }

  private tick(): void {
    const atMs = Date.now();
    for (const p of this.processes) {
      const pid = p.pid();
      if (pid !== undefined) this.samples.push(readProcess(p.service, pid, atMs));
    }
  }
}
