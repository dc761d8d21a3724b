import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { cgroupSupport, cleanupStale, ProcessCgroup, type CgroupOptions } from "../../../harness/faults/cgroup";
import { cgroupMounts } from "../../../harness/faults/cgroup-fs";
import { readStat } from "../../../harness/faults/cgroup-procs";
import { retryUntil } from "../../../harness/util/retry";

/**
 * CPU throttling and freezing through real cgroups, on real child processes: no mocks. This machine must have
 * writable cgroups; without them the first test fails with the reason. MESHPROOF_PRINT_EFFECTS=1 prints the
 * measured CPU rates and delays.
 */

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
const BUSY = 'process.stdout.write("ready\\n"); for (;;) {}';
const SERVER =
  'const s = require("http").createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () => console.log(s.address().port));';
// Prints the pid of a busy grandchild at once and again for every line on stdin.
const FORKER =
  'const fork = () => console.log(require("child_process").spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }).pid);' +
  'fork(); process.stdin.on("data", fork);';

const children: ChildProcess[] = [];
const cgroups: ProcessCgroup[] = [];

function report(line: string): void {
  if (process.env.MESHPROOF_PRINT_EFFECTS) process.stderr.write(`[effect] ${line}\n`);
}

/** A node child in its own process group, and a reader of its stdout lines. */
async function start(script: string, args: string[] = [], stderr: "inherit" | "ignore" = "inherit") {
  const child = spawn(process.execPath, ["-e", script, ...args], { detached: true, stdio: ["pipe", "pipe", stderr] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  return { child, pid: child.pid!, next, first: await next() };
}

async function create(name: string, pids: number[], options?: CgroupOptions): Promise<ProcessCgroup> {
  const cgroup = await ProcessCgroup.create(name, pids, options);
  cgroups.push(cgroup);
  return cgroup;
}

/** Cores used by `pid` (all threads) and by `control` over the same window, from utime + stime in /proc/<pid>/stat. */
async function cpuRates(pid: number, control: number, windowMs: number): Promise<Rate> {
  const ticks = () => [readStat(pid)!.cpuTicks, readStat(control)!.cpuTicks];
  const [pidBefore, controlBefore] = ticks();
  const startedMs = performance.now();
  await sleep(windowMs);
  const seconds = (performance.now() - startedMs) / 1000;
  const [pidAfter, controlAfter] = ticks();
  return {
    rate: (pidAfter! - pidBefore!) / CLOCK_TICKS / seconds,
    control: (controlAfter! - controlBefore!) / CLOCK_TICKS / seconds,
  };
}

interface Rate {
  rate: number;
  /** What an identical busy child outside any group got over the same window. */
  control: number;
}

/**
 * Measures `pid` against `control` (a busy child outside any group) over windowMs until a window fits, within 8 s:
 * the 2 cores are shared with other work, so one window may see the child crowded out. Returns every window.
 */
async function ratesUntil(pid: number, control: number, windowMs: number, fits: (r: Rate) => boolean, what: string) {
  const rates: Rate[] = [];
  await retryUntil(
    async () => {
      rates.push(await cpuRates(pid, control, windowMs));
      return rates.at(-1)!;
    },
    fits,
    {
      timeoutMs: 8_000,
      description: what,
      onTimeout: () => `rates ${format(rates)}; load average ${os.loadavg().join(" ")}`,
    },
  );
  return rates;
}

/**
 * At least `floor` cores, or, on a machine so crowded that a free child gets less, at least 0.8 of what the control
 * got when that was 0.3 or more (a 0.2 quota caps a window at about 0.21 cores, below 0.8 x 0.3: it cannot pass).
 */
const runsFree =
  (floor: number) =>
  ({ rate, control }: Rate) =>
    rate >= floor || (control >= 0.3 && rate >= 0.8 * control);

const format = (rates: Rate[]) => rates.map((r) => `${r.rate.toFixed(2)} (control ${r.control.toFixed(2)})`).join(", ");

/** Whether every thread of `pid` is in the groups of `cgroup`. */
function threadsIn(pid: number, cgroup: ProcessCgroup): boolean {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.every((tid) => {
    const lines = fs.readFileSync(`/proc/${pid}/task/${tid}/cgroup`, "utf8");
    return cgroup.groups.every((g) => lines.includes(`:${g.dir.slice(g.mount.point.length)}\n`));
  });
}

/**
 * `pid` is in no meshproof group (so no quota of one reaches it), in the groups it started in when `origin` is given
 * (/proc/<pid>/cgroup then), and runs: not frozen. The destroy test measures the full rate; this is the cheaper check.
 */
async function expectReleased(pid: number, origin?: string): Promise<void> {
  const now = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8");
  expect(now).not.toContain("/meshproof/");
  if (origin !== undefined) expect(now).toBe(origin);
  await ratesUntil(pid, pid, 300, ({ rate }) => rate > 0.05, "the released process running");
}

/**
 * Another meshproof process: it puts `victim` in a cgroup named `name`, limits it to 0.1 core, freezes it, prints
 * the group directories, then runs `then` (a statement; `g` is its ProcessCgroup). Its stderr is ignored: the tests
 * crash it on purpose.
 */
async function startOwner(
  name: string,
  victim: number,
  then: string,
): Promise<{ child: ChildProcess; dirs: string[] }> {
  const modulePath = path.resolve(__dirname, "../../../harness/faults/cgroup.js");
  const script =
    `require(${JSON.stringify(modulePath)}).ProcessCgroup.create(${JSON.stringify(name)}, [${victim}])` +
    ".then(async (g) => { await g.limitCpu(0.1); await g.freeze();" +
    ` console.log(JSON.stringify(g.groups.map((x) => x.dir))); ${then} })`;
  const owner = await start(script, [], "ignore");
  return { child: owner.child, dirs: JSON.parse(owner.first) as string[] };
}

/** One GET: answered or not within timeoutMs (no data for that long), and how long it took. */
function get(port: number, timeoutMs: number): Promise<{ answered: boolean; ms: number }> {
  const startedMs = performance.now();
  const done = (answered: boolean) => ({ answered, ms: performance.now() - startedMs });
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on("end", () => resolve(done(response.statusCode === 200)));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(done(false)));
  });
}

/** Polls every 50 ms until untilMs (Date.now()); the latency of each answer. */
async function poll(port: number, untilMs: number): Promise<number[]> {
  const latencies: number[] = [];
  while (Date.now() < untilMs) {
    const { answered, ms } = await get(port, 2_000);
    latencies.push(answered ? ms : Infinity);
    await sleep(50);
  }
  return latencies;
}

afterEach(async () => {
  for (const cgroup of cgroups.splice(0)) await cgroup.destroy().catch(() => undefined);
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, "exit");
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
    await exited;
  }
});

afterAll(async () => {
  await cleanupStale();
});

describe("cgroup faults on real processes", () => {
  test("this machine has writable cgroups for CPU throttling and freezing (fails with the reason if not)", () => {
    const support = cgroupSupport();
    report(`cpu: ${JSON.stringify(support.cpu)}; freeze: ${JSON.stringify(support.freeze)}`);
    expect(support.cpu).toMatchObject({ ok: true });
    expect(support.freeze).toMatchObject({ ok: true });
  });

  test("limitCpu(0.2) throttles a busy child (all threads moved) to about 0.2 cores; unlimitCpu lifts it", async () => {
    const busy = await start(BUSY);
    const cgroup = await create("busy", [busy.pid]);
    expect(threadsIn(busy.pid, cgroup)).toBe(true);
    const control = await start(BUSY);
    const measure = (fits: (r: Rate) => boolean, what: string) => ratesUntil(busy.pid, control.pid, 1_500, fits, what);
    const free = await measure(runsFree(0.8), "the child in its group unlimited at >= 0.8 cores");
    await cgroup.limitCpu(0.2);
    const limited = await measure(({ rate }) => rate >= 0.1 && rate <= 0.3, "0.1-0.3 cores at limitCpu(0.2)");
    await cgroup.unlimitCpu();
    const lifted = await measure(runsFree(0.6), "the child at > 0.6 cores after unlimitCpu");
    report(`busy child: ${format(free)} free; ${format(limited)} at limitCpu(0.2); ${format(lifted)} lifted`);
    // A quota is a cap: no window may exceed it, whatever the contention.
    expect(Math.max(...limited.map((r) => r.rate))).toBeLessThanOrEqual(0.3);
  });

  test("freeze stops a busy child's CPU time and thaw lets it run again, on every freezer this machine has", async () => {
    const tried = new Set<string>();
    for (const prefer of ["v2", "v1"] as const) {
      const support = cgroupSupport({ prefer }).freeze;
      if (!support.ok || tried.has(support.how)) continue;
      tried.add(support.how);
      const busy = await start(BUSY);
      const cgroup = await create(`freeze-${prefer}`, [busy.pid], { prefer });
      await cgroup.freeze();
      const before = readStat(busy.pid)!.cpuTicks;
      await sleep(500);
      const frozenTicks = readStat(busy.pid)!.cpuTicks - before;
      await cgroup.thaw();
      const thawed = await ratesUntil(busy.pid, busy.pid, 500, ({ rate }) => rate > 0.05, "the thawed child running");
      report(`${support.how}: ${frozenTicks} ticks in 500 ms frozen, ${thawed.at(-1)!.rate.toFixed(2)} cores thawed`);
      expect(frozenTicks).toBe(0);
    }
    expect(tried.size).toBeGreaterThan(0);
  });

  test("a frozen HTTP server does not answer within 300 ms, and answers once thawed", async () => {
    const server = await start(SERVER);
    const port = Number(server.first);
    const cgroup = await create("server", [server.pid]);
    expect((await get(port, 1_000)).answered).toBe(true);
    await cgroup.freeze();
    const frozen = await get(port, 300);
    await cgroup.thaw();
    const thawed = await get(port, 1_000);
    report(
      `frozen server: answered ${frozen.answered} after ${frozen.ms.toFixed(0)} ms; thawed: ${thawed.ms.toFixed(0)} ms`,
    );
    expect(frozen.answered).toBe(false);
    expect(thawed.answered).toBe(true);
  });

  test("stallEvery(300, 1000) for 3 s delays a polled HTTP server at least twice, and not once it stopped", async () => {
    const server = await start(SERVER);
    const port = Number(server.first);
    const cgroup = await create("stalled", [server.pid]);
    const startedMs = Date.now();
    const stop = cgroup.stallEvery(300, 1_000, 3_000);
    const during = await poll(port, startedMs + 3_000);
    const summary = await stop();
    const after = await poll(port, Date.now() + 600);
    const delayed = during.filter((ms) => ms >= 200);
    report(
      `stall: ${summary.stalls} stalls; delays >= 200 ms: ${delayed.map((ms) => ms.toFixed(0)).join(", ")} of ${during.length} polls; after stop max ${Math.max(...after).toFixed(0)} ms`,
    );
    expect(summary.stalls).toBe(3);
    expect(delayed.length).toBeGreaterThanOrEqual(2);
    expect(after.filter((ms) => ms >= 200)).toEqual([]);

    // Stopped in the middle of a 2 s block, it thaws at once.
    const long = cgroup.stallEvery(2_000, 3_000, 10_000);
    await retryUntil(
      async () => (await get(port, 100)).answered,
      (answered) => !answered,
      {
        timeoutMs: 2_000,
        description: "the server frozen by the long stall",
      },
    );
    const stopStartedMs = performance.now();
    expect(await long()).toEqual({ stalls: 1 });
    expect(performance.now() - stopStartedMs).toBeLessThan(500);
    expect((await get(port, 200)).answered).toBe(true);
  });

  test("children of the process group, forked before and after the move, are in the group and freeze with it", async () => {
    const forker = await start(FORKER);
    const before = Number(forker.first);
    const cgroup = await create("forker", [forker.pid]);
    forker.child.stdin!.write("fork\n");
    const after = Number(await forker.next());
    expect(cgroup.members().sort()).toEqual([forker.pid, before, after].sort());
    for (const pid of [forker.pid, before, after]) expect(threadsIn(pid, cgroup)).toBe(true);
    await cgroup.freeze();
    const ticks = [before, after].map((pid) => readStat(pid)!.cpuTicks);
    await sleep(500);
    expect([before, after].map((pid) => readStat(pid)!.cpuTicks)).toEqual(ticks);
    await cgroup.thaw();
  });

  test("destroy moves the processes back unthrottled and removes the groups; twice is fine, so is an exited process", async () => {
    const busy = await start(BUSY);
    const origin = fs.readFileSync(`/proc/${busy.pid}/cgroup`, "utf8");
    const cgroup = await create("destroyed", [busy.pid]);
    const dirs = cgroup.groups.map((g) => g.dir);
    await cgroup.limitCpu(0.1);
    await cgroup.freeze();
    await cgroup.destroy();
    await cgroup.destroy();
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
    expect(fs.readFileSync(`/proc/${busy.pid}/cgroup`, "utf8")).toBe(origin);
    const control = await start(BUSY);
    const rates = await ratesUntil(busy.pid, control.pid, 1_000, runsFree(0.6), "the released child at > 0.6 cores");
    report(`after destroy: ${format(rates)}`);

    const brief = await start(BUSY);
    const exiting = await create("exited", [brief.pid]);
    const exited = once(brief.child, "exit");
    brief.child.kill("SIGKILL");
    await exited;
    await expect(exiting.destroy()).resolves.toBeUndefined();
    expect(exiting.groups).toEqual([]);
  });

  test("cleanupStale undoes what a meshproof killed mid-fault left: processes thawed, unlimited, moved out", async () => {
    const victim = await start(BUSY);
    const { child: owner, dirs } = await startOwner("left", victim.pid, "setInterval(() => {}, 60_000);");
    const killed = once(owner, "exit");
    process.kill(-owner.pid!, "SIGKILL");
    await killed;
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual(dirs);
    const frozenTicks = readStat(victim.pid)!.cpuTicks;
    await sleep(300);
    expect(readStat(victim.pid)!.cpuTicks).toBe(frozenTicks);
    const cleaned = await cleanupStale();
    expect(cleaned.failures).toEqual([]);
    expect(cleaned.removed.sort()).toEqual([...dirs].sort());
    expect(cleaned.movedPids).toContain(victim.pid);
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
    // Where it came from died with that run: it is at the top of each hierarchy now.
    await expectReleased(victim.pid);
  });

  test("a meshproof that crashes (uncaught exception) mid-fault undoes its groups as it exits", async () => {
    const victim = await start(BUSY);
    const origin = fs.readFileSync(`/proc/${victim.pid}/cgroup`, "utf8");
    const crash = 'process.stdin.on("data", () => { throw new Error("crash"); });';
    const { child: owner, dirs } = await startOwner("crashed", victim.pid, crash);
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual(dirs);
    const exited = once(owner, "exit");
    owner.stdin!.write("crash\n");
    expect((await exited)[0]).toBe(1);
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
    await expectReleased(victim.pid, origin);
  });

  test("without cgroups (mount root a temp dir) cgroupSupport says why and create throws that reason", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "no-cgroups-"));
    try {
      const support = cgroupSupport({ mountRoot: root });
      expect(support.cpu).toEqual({
        ok: false,
        reason: expect.stringContaining(`no cgroup v2 is mounted under ${root}`),
      });
      expect(support.freeze).toEqual({ ok: false, reason: expect.stringContaining("freezer hierarchy is mounted") });
      const busy = await start(BUSY);
      const attempt = create("nowhere", [busy.pid], { mountRoot: root });
      await expect(attempt).rejects.toThrow(support.cpu.ok ? "unexpected" : support.cpu.reason);
      await expect(attempt).rejects.toThrow(support.freeze.ok ? "unexpected" : support.freeze.reason);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });

  test("no meshproof group is left on any hierarchy", async () => {
    await retryUntil(
      async () => cgroupMounts().filter((m) => fs.existsSync(path.join(m.point, "meshproof"))),
      (left) => left.length === 0,
      { timeoutMs: 2_000, description: "no meshproof parent group on any cgroup mount" },
    );
  });
});
