/**
 * The lifeline: one small process per harness process, in its own session, reading pids from its stdin pipe.
 * When that pipe closes — the harness ended normally, crashed, or was SIGKILLed — it terminates every
 * process group it was told about (SIGTERM, then SIGKILL after a grace period) and exits.
 *
 * Protocol on stdin, one line each: "+<pid>" watch the process group led by pid, "-<pid>" forget it.
 */
import { setTimeout as sleep } from "node:timers/promises";

const GRACE_MS = 2_000;
const watched = new Set<number>();
let buffered = "";

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(signal: NodeJS.Signals): void {
  for (const pid of watched) {
    try {
      process.kill(-pid, signal);
    } catch {
      watched.delete(pid);
    }
  }
}

async function reap(): Promise<void> {
  signalAll("SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && [...watched].some(alive)) await sleep(50);
  signalAll("SIGKILL");
  process.exit(0);
}

// Terminal signals are the harness's to handle; the reaper only answers to its pipe.
for (const signal of ["SIGINT", "SIGHUP", "SIGTERM"] as const) process.on(signal, () => undefined);

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  const lines = buffered.split("\n");
  buffered = lines.pop() ?? "";
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line.startsWith("+")) watched.add(pid);
    else if (line.startsWith("-")) watched.delete(pid);
  }
});
process.stdin.on("close", () => void reap());
process.stdin.on("end", () => void reap());
