/**
 * The lifeline: one small process per harness process, in its own session, reading what to clean up from its stdin
 * pipe. When that pipe closes — the harness ended normally, crashed, or was SIGKILLed — it reverts every fault the
 * harness's journal on disk holds open (before anything is killed: a fault on a mesh the harness did not start
 * outlives it otherwise), then terminates every process group it was told about (SIGTERM, then SIGKILL after a grace
 * period), force-removes every container carrying a label it was told about, and exits.
 *
 * Protocol on stdin, one line each: "+<pid>" watch the process group led by pid, "-<pid>" forget it,
 * "L<key>=<value>" remove the containers labelled key=value, "J<path>" revert the open entries of that journal.
 *
 * Containers are removed through the Docker Engine API on its unix socket (the reaper needs neither the CLI nor
 * testcontainers' Ryuk, whose image cannot be pulled here).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { engineRequest } from "../docker/engine";
import { revertOpenEntries } from "../faults/disk-journal";

const GRACE_MS = 2_000;
const watched = new Set<number>();
const labels = new Set<string>();
const journals = new Set<string>();
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

async function killGroups(): Promise<void> {
  signalAll("SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && [...watched].some(alive)) await sleep(50);
  signalAll("SIGKILL");
}

async function removeLabelled(label: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const listed = await engineRequest("GET", `/containers/json?all=1&filters=${filters}`, { timeoutMs: 10_000 });
  if (listed.status !== 200) return 0;
  const ids = (JSON.parse(listed.body) as { Id: string }[]).map((c) => c.Id);
  await Promise.all(
    ids.map((id) =>
      engineRequest("DELETE", `/containers/${id}?force=1&v=1`, { timeoutMs: 10_000 }).catch(() => undefined),
    ),
  );
  return ids.length;
}

async function removeContainers(): Promise<void> {
  if (labels.size === 0) return;
  // Twice: a create the harness had in flight when it died can land just after the first sweep.
  for (const pass of [1, 2]) {
    await Promise.all([...labels].map((label) => removeLabelled(label).catch(() => 0)));
    if (pass === 1) await sleep(500);
  }
}

/** Each journal's open entries reverted, by the lifeline (a journal never written has nothing to revert). */
async function revertFaults(): Promise<void> {
  await Promise.all([...journals].map((file) => revertOpenEntries(file, "lifeline").catch(() => undefined)));
}

async function reap(): Promise<void> {
  await revertFaults();
  await Promise.all([killGroups(), removeContainers()]);
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
    if (line.startsWith("L")) {
      labels.add(line.slice(1));
      continue;
    }
    if (line.startsWith("J")) {
      journals.add(line.slice(1));
      continue;
    }
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line.startsWith("+")) watched.add(pid);
    else if (line.startsWith("-")) watched.delete(pid);
  }
});
let reaping = false;
const once = () => {
  if (reaping) return;
  reaping = true;
  void reap();
};
process.stdin.on("close", once);
process.stdin.on("end", once);
