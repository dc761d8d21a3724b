import { spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ToxiproxyClient } from "../../harness/backends/toxiproxy";
import { journalDir, readJournal } from "../../harness/faults/disk-journal";
import { retryUntil } from "../../harness/util/retry";
import { collect, runCli, spawnCli } from "../support/cli";

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshproof-${prefix}-`));
}

/** The orders->Redis link as Toxiproxy has it now: enabled, and its toxics' names. */
async function redisLink(toxiproxy: ToxiproxyClient): Promise<{ enabled: boolean; toxics: string[] }> {
  const response = await fetch(`${toxiproxy.url}/proxies/orders-redis`, { signal: AbortSignal.timeout(2_000) });
  const proxy = (await response.json()) as { enabled: boolean; toxics: { name: string }[] };
  return { enabled: proxy.enabled, toxics: proxy.toxics.map((t) => t.name) };
}

const HEALTHY = { enabled: true, toxics: [] };

describe("nothing left behind, whatever kills the harness (a mesh meshproof did not start)", () => {
  let owner: ChildProcessWithoutNullStreams;
  let ownerOutput = "";
  let configFile: string;
  let toxiproxy: ToxiproxyClient;

  beforeAll(async () => {
    configFile = path.join(tempDir("leftover-mesh"), "meshproof.config.json");
    // The way a user starts one: npm run mesh, which writes the config the harness is pointed at.
    owner = spawnCli("harness/cli/stack.js", ["--backend", "native", "--mesh", configFile]);
    owner.stderr.on("data", (chunk) => (ownerOutput += chunk));
    await retryUntil(async () => fs.existsSync(configFile), Boolean, {
      timeoutMs: 60_000,
      description: `npm run mesh writing ${configFile}`,
      onTimeout: () => ownerOutput,
    });
    const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as { toxiproxy: { url: string } };
    toxiproxy = new ToxiproxyClient(config.toxiproxy.url);
  }, 90_000);

  afterAll(async () => {
    owner.kill("SIGTERM");
    await new Promise((resolve) => owner.once("close", resolve));
  });

  test("kill -9 while a link fault is applied: the lifeline re-enables the link within 5 s and says so in the journal", async () => {
    const runRoot = tempDir("leftover-run");
    const harness = spawnCli(
      "harness/cli/scenario.js",
      ["redis-outage", "--config", configFile, "--report-dir", tempDir("leftover-report")],
      { MESHPROOF_RUN_ROOT: runRoot },
    );
    const output = collect(harness);
    let stderr = "";
    harness.stderr.on("data", (chunk) => (stderr += chunk));
    await retryUntil(async () => stderr.includes("fault link-down orders-redis"), Boolean, {
      timeoutMs: 90_000,
      description: "the harness's progress line naming the applied fault (fault link-down orders-redis)",
      onTimeout: () => stderr,
    });
    expect(await redisLink(toxiproxy)).toEqual({ enabled: false, toxics: [] });

    harness.kill("SIGKILL");
    const killedAtMs = Date.now();
    expect((await output).signal).toBe("SIGKILL");
    await retryUntil(
      () => redisLink(toxiproxy),
      (link) => link.enabled && link.toxics.length === 0,
      {
        timeoutMs: 5_000 - (Date.now() - killedAtMs),
        description: "the orders-redis link enabled and without toxics after the harness was SIGKILLed",
        maxDelayMs: 50,
      },
    );
    const healthyAfterMs = Date.now() - killedAtMs;
    expect(healthyAfterMs).toBeLessThan(5_000);
    process.stderr.write(`leftover-faults: orders-redis healthy ${healthyAfterMs} ms after kill -9\n`);

    const [file] = fs.readdirSync(journalDir(runRoot));
    const journal = readJournal(path.join(journalDir(runRoot), file!));
    expect(journal.owner?.pid).toBe(harness.pid);
    expect(journal.entries.map((e) => ({ kind: e.kind, target: e.target, state: e.state, by: e.by }))).toEqual([
      { kind: "link-down", target: "orders-redis", state: "reverted", by: "lifeline" },
    ]);
  }, 150_000);

  test("a journal left open by a harness whose lifeline died too: the next run reverts it before its steady state and says so", async () => {
    const runRoot = tempDir("leftover-next");
    // A pid that ran and is gone: the journal's harness and lifeline.
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout.trim());
    fs.mkdirSync(journalDir(runRoot), { recursive: true });
    const file = path.join(journalDir(runRoot), `${deadPid}-1.jsonl`);
    const leftover = { via: "toxiproxy", url: toxiproxy.url, proxy: "orders-redis", enable: true, toxics: [] };
    fs.writeFileSync(
      file,
      [
        { event: "open", pid: deadPid, startTicks: 1, lifelinePid: deadPid, lifelineStartTicks: 1, atMs: 1 },
        { event: "applying", key: "k1", id: "fault-1", kind: "link-down", target: "orders-redis", leftover, atMs: 1 },
        { event: "applied", key: "k1", atMs: 2 },
      ]
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(""),
    );
    await toxiproxy.setEnabled("orders-redis", false);

    const reportDir = tempDir("leftover-next-report");
    const result = await runCli(
      "harness/cli/scenario.js",
      ["baseline", "--config", configFile, "--report-dir", reportDir],
      {
        MESHPROOF_RUN_ROOT: runRoot,
      },
    );
    expect(result.stderr).toContain(
      `faults left open by a harness that died (pid ${deadPid}): reverted link-down orders-redis (fault-1); journal ${file}`,
    );
    // Reverted before the steady state: the baseline holds on the link the dead run left down.
    expect({ code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(await redisLink(toxiproxy)).toEqual(HEALTHY);
    expect(readJournal(file).entries.map((e) => ({ id: e.id, state: e.state, by: e.by }))).toEqual([
      { id: "fault-1", state: "reverted", by: "next-run" },
    ]);
  }, 150_000);
});
