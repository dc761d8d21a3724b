import { TOOL_NAMES } from "../../harness/tools/tools";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createBackend, redisPing, type StartedStack } from "../../harness/backends";
import { lifeline } from "../../harness/lifeline/lifeline";
import { LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";
import { collect, firstLine, pidAlive, runCli, spawnCli } from "../support/cli";
import { containerExists, requireDocker, runContainers } from "../support/docker";

const STACK_CLI = "harness/cli/stack.js";

/** Every contract test runs against both backends: same StartedStack, same checks. */
const BACKENDS = ["native", "docker"] as const;
type BackendName = (typeof BACKENDS)[number];

/** Fails (never skips) a docker test on a machine without an engine or images, naming the setup command. */
async function requireBackend(name: BackendName): Promise<void> {
  if (name === "docker") await requireDocker();
}

async function timedPing(host: string, port: number): Promise<number> {
  const started = performance.now();
  expect(await redisPing(host, port, 5_000)).toBe("+PONG");
  return performance.now() - started;
}

async function allGone(pids: number[], timeoutMs: number): Promise<void> {
  await retryUntil(
    async () => pids.filter(pidAlive),
    (alive) => alive.length === 0,
    {
      timeoutMs,
      description: `backend processes ${pids.join(", ")} to exit`,
      maxDelayMs: 100,
    },
  );
}

/** Within timeoutMs no container of these ids exists any more; resolves with how long that took. */
async function containersGone(ids: string[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  await retryUntil(
    async () => (await Promise.all(ids.map(async (id) => ((await containerExists(id)) ? [id] : [])))).flat(),
    (left) => left.length === 0,
    {
      timeoutMs,
      description: `containers ${ids.map((id) => id.slice(0, 12)).join(", ")} to be removed`,
      maxDelayMs: 100,
    },
  );
  return performance.now() - started;
}

describe.each(BACKENDS)("%s backend", (backendName) => {
  let stack: StartedStack;

  beforeAll(async () => {
    await requireBackend(backendName);
    stack = await createBackend(backendName).start();
  }, 120_000);

  test("reports itself and its tool versions", () => {
    expect(stack.backend).toBe(backendName);
    expect(Object.keys(stack.tools).sort()).toEqual(["jaeger", "prometheus", "redis", "toxiproxy"]);
    expect(stack.containers()).toHaveLength(backendName === "docker" ? 4 : 0);
    for (const tool of ["jaeger", "prometheus", "redis", "toxiproxy"]) {
      expect(fs.existsSync(path.join(stack.runDir, "logs", `${tool}.log`))).toBe(true);
    }
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("an OTLP span sent to Jaeger is found through its query API by trace id", async () => {
    const traceId = crypto.randomBytes(16).toString("hex");
    const spanId = crypto.randomBytes(8).toString("hex");
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "backend-test" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId,
                  name: "probe-span",
                  kind: 2,
                  startTimeUnixNano: String(nowNs),
                  endTimeUnixNano: String(nowNs + 5_000_000n),
                  attributes: [{ key: "http.request.method", value: { stringValue: "GET" } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${stack.jaeger.otlpHttpUrl}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);

    const trace = await retryUntil(
      () => stack.traces.getTrace(traceId),
      (t) => t !== undefined,
      {
        timeoutMs: 10_000,
        description: `trace ${traceId} in Jaeger`,
      },
    );
    expect(trace?.spans).toHaveLength(1);
    expect(trace?.spans[0]).toMatchObject({ spanId, service: "backend-test", name: "probe-span", kind: "server" });
    expect(trace?.spans[0]?.attributes["http.request.method"]).toBe("GET");
  });

  // Prometheus 2.42 throttles discovery (5 s) and scrape-pool reloads (5 s) with fixed tickers, so a new file_sd
  // target is scraped 0-10 s after it is written (+ <= 1 s scrape interval); the mesh registers its targets before
  // its services start so this overlaps with start-up. The measured figure is printed by `npm run bench:stack`.
  test("Prometheus scrapes a target added at run time through file_sd (up == 1)", async () => {
    const server = http.createServer((_req, res) => {
      res.setHeader("content-type", "text/plain; version=0.0.4");
      res.end("# TYPE backend_test_value gauge\nbackend_test_value 42\n");
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    try {
      const address = `${LOOPBACK}:${(server.address() as AddressInfo).port}`;
      const addedAt = performance.now();
      stack.prometheus.addTargets("filesd-test", [{ address, labels: { service: "filesd-test" } }]);
      const up = await retryUntil(
        () => stack.prometheus.query(`up{instance="${address}"}`),
        (samples) => samples[0]?.value === 1,
        { timeoutMs: 12_000, description: `up{instance="${address}"} == 1`, maxDelayMs: 100 },
      );
      expect(up[0]?.metric).toMatchObject({ job: "filesd-test", service: "filesd-test" });
      expect(performance.now() - addedAt).toBeLessThan(12_000);
    } finally {
      stack.prometheus.removeTargets("filesd-test");
      server.close();
    }
  });

  test("Redis answers PING; a 200 ms Toxiproxy latency toxic delays it and removing it restores the speed", async () => {
    expect(await redisPing(stack.redis.host, stack.redis.port)).toBe("+PONG");
    const proxy = await stack.toxiproxy.client.createProxy("redis-test", `${stack.redis.host}:${stack.redis.port}`);
    const [host, port] = [proxy.listen.split(":")[0]!, Number(proxy.listen.split(":")[1])];
    expect(host).toBe(LOOPBACK);

    const before = await timedPing(host, port);
    const toxic = await stack.toxiproxy.client.addToxic("redis-test", {
      type: "latency",
      attributes: { latency: 200 },
    });
    const delayed = await timedPing(host, port);
    await stack.toxiproxy.client.removeToxic("redis-test", toxic.name);
    await stack.toxiproxy.client.removeToxic("redis-test", toxic.name); // idempotent revert
    const restored = await timedPing(host, port);

    expect(delayed).toBeGreaterThanOrEqual(200);
    expect(restored).toBeLessThan(100);
    expect(before).toBeLessThan(100);
  });

  test("stop() is idempotent and leaves no backend process", async () => {
    const second = await createBackend(backendName).start();
    const pids = second.pids();
    const containers = second.containers();
    expect(pids.every(pidAlive)).toBe(true);
    // Two stacks at once: nothing shared.
    expect(second.runDir).not.toBe(stack.runDir);
    expect(second.prometheus.url).not.toBe(stack.prometheus.url);
    expect(second.redis.port).not.toBe(stack.redis.port);
    expect(containers.filter((id) => stack.containers().includes(id))).toEqual([]);
    await Promise.all([second.stop(), second.stop()]);
    await second[Symbol.asyncDispose]();
    expect(pids.filter(pidAlive)).toEqual([]);
    for (const id of containers) expect(await containerExists(id)).toBe(false);
    expect(fs.existsSync(second.runDir)).toBe(false);
    // The first stack is untouched by the second's stop.
    expect(await redisPing(stack.redis.host, stack.redis.port)).toBe("+PONG");
  }, 60_000);
});

interface Endpoints {
  backend: string;
  runDir: string;
  pids: number[];
  containers: string[];
}

describe.each(BACKENDS)("no orphans (%s)", (backendName) => {
  beforeAll(() => requireBackend(backendName));

  async function startChild(): Promise<{ child: ReturnType<typeof spawnCli>; endpoints: Endpoints }> {
    const child = spawnCli(STACK_CLI, ["--backend", backendName]);
    const endpoints = JSON.parse(await firstLine(child)) as Endpoints;
    expect(endpoints.backend).toBe(backendName);
    expect(endpoints.pids).toHaveLength(4);
    expect(endpoints.pids.every(pidAlive)).toBe(true);
    expect(endpoints.containers).toHaveLength(backendName === "docker" ? 4 : 0);
    return { child, endpoints };
  }

  /** Every process and container of the run gone within 10 s; no container left with the run's label either. */
  async function nothingLeft(endpoints: Endpoints): Promise<void> {
    const removalMs = await containersGone(endpoints.containers, 10_000);
    await allGone(endpoints.pids, 10_000);
    const runId = path.basename(endpoints.runDir);
    expect(await runContainers((id) => id === runId)).toEqual([]);
    if (backendName === "docker")
      process.stderr.write(`containers of ${runId} removed ${removalMs.toFixed(0)} ms after\n`);
  }

  test("a SIGKILLed harness leaves no backend process or container 10 s later", async () => {
    const { child, endpoints } = await startChild();
    const closed = collect(child);
    child.kill("SIGKILL");
    expect((await closed).signal).toBe("SIGKILL");
    await nothingLeft(endpoints);
  });

  test.each(["SIGINT", "SIGTERM"] as const)("%s stops the stack and exits 2 (aborted)", async (signal) => {
    const { child, endpoints } = await startChild();
    const closed = collect(child);
    child.kill(signal);
    const result = await closed;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${signal} received`);
    await nothingLeft(endpoints);
  });

  test("a normal end stops every backend process and container", async () => {
    const child = spawnCli(STACK_CLI, ["--backend", backendName, "--hold-ms", "0"]);
    const result = await collect(child);
    expect(result.code).toBe(0);
    await nothingLeft(JSON.parse(result.stdout.split("\n")[0]!) as Endpoints);
  });

  test("two runs at once do not collide: killing one leaves the other running", async () => {
    const [first, second] = await Promise.all([startChild(), startChild()]);
    try {
      expect(first.endpoints.runDir).not.toBe(second.endpoints.runDir);
      expect(first.endpoints.containers.filter((id) => second.endpoints.containers.includes(id))).toEqual([]);
      const firstClosed = collect(first.child);
      first.child.kill("SIGKILL");
      await firstClosed;
      await nothingLeft(first.endpoints);
      expect(second.endpoints.pids.every(pidAlive)).toBe(true);
      for (const id of second.endpoints.containers) expect(await containerExists(id)).toBe(true);
      const secondClosed = collect(second.child);
      second.child.kill("SIGTERM");
      expect((await secondClosed).code).toBe(2);
      await nothingLeft(second.endpoints);
    } finally {
      // A failed check leaves no run behind to keep the test process alive.
      for (const { child } of [first, second]) if (child.exitCode === null && child.signalCode === null) child.kill();
    }
  }, 60_000);

  test("a start that fails half-way stops what already started", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, LOOPBACK, resolve));
    const port = (blocker.address() as AddressInfo).port;
    // Runs of this (test) process are named <stamp>-<pid>-<random>.
    const ours = (runId: string) => runId.includes(`-${process.pid}-`);
    try {
      const before = new Set(childPids());
      const containersBefore = new Set(await runContainers(ours));
      await expect(createBackend(backendName).start({ ports: { redis: port } })).rejects.toThrow(/already in use/);
      expect(childPids().filter((p) => !before.has(p))).toEqual([]);
      expect((await runContainers(ours)).filter((id) => !containersBefore.has(id))).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

/** Pids of this process's children, but for the lifeline reaper. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && Number(entry) !== lifeline.pid) pids.push(Number(entry));
    } catch {
      // Gone between listing and reading.
    }
  }
  return pids;
}

describe("bad input exits 2 with a clear error", () => {
  test("unknown backend name", async () => {
    const result = await runCli(STACK_CLI, ["--backend", "kubernetes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown backend "kubernetes"; valid backends: auto, native, docker');
  });

  test("--backend docker without an engine names the setup command", async () => {
    const result = await runCli(STACK_CLI, ["--backend", "docker", "--hold-ms", "0"], {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no Docker engine socket at /nonexistent/docker.sock");
    expect(result.stderr).toContain('run "npm run setup -- --with docker"');
  });

  test("--backend auto without an engine says it falls back to native, and why", async () => {
    const result = await runCli(STACK_CLI, ["--hold-ms", "0"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "backend auto: native (no Docker engine (no Docker engine socket at /nonexistent/docker.sock))",
    );
    expect((JSON.parse(result.stdout.split("\n")[0]!) as Endpoints).backend).toBe("native");
  });

  test("a missing tool (override pointing to a non-existent path)", async () => {
    const result = await runCli(STACK_CLI, ["--hold-ms", "0"], { MESHPROOF_PROMETHEUS_BIN: "/nonexistent/prometheus" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("MESHPROOF_PROMETHEUS_BIN points to /nonexistent/prometheus");
    expect(result.stderr).toContain("unset it");
  });

  test("a port already taken by another process", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, LOOPBACK, resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const result = await runCli(STACK_CLI, ["--hold-ms", "0", "--port", `prometheus=${port}`]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`port ${port} asked for prometheus http is already in use on 127.0.0.1`);
    } finally {
      blocker.close();
    }
  });

  test("a malformed flag prints the usage", async () => {
    const result = await runCli(STACK_CLI, ["--port", "grafana=3000"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown port name "grafana"');
  });

  test("a tool that must be built without Go on PATH names the fix", async () => {
    const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-cache-"));
    const result = await runCli("harness/cli/setup.js", [], {
      MESHPROOF_TOOL_CACHE: emptyCache,
      PATH: "/usr/bin:/bin",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("needs the Go toolchain, which is not on PATH");
    expect(result.stderr).toContain('run "npm run setup"');
  });

  test("setup --with an unknown extra exits 2 naming the valid ones", async () => {
    const result = await runCli("harness/cli/setup.js", ["--check", "--with", "kubernetes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--with kubernetes: valid values: docker");
  });

  test("setup --with docker --check reports the packages, the engine and every image", async () => {
    await requireDocker();
    const result = await runCli("harness/cli/setup.js", ["--check", "--with", "docker"]);
    expect(result.stderr).toBe("");
    const lines = result.stdout.trim().split("\n").slice(TOOL_NAMES.length);
    // Exit 0 only when everything is current; the mesh images follow dist/, the lock and payments-go's source.
    expect(result.code).toBe(lines.every((l) => !l.startsWith("image ") || l.endsWith(" current")) ? 0 : 2);
    expect(lines.map((l) => l.slice(0, 18).trim())).toEqual([
      "docker.io",
      "docker-compose",
      "debootstrap",
      "docker-engine",
      "image base",
      "image jaeger",
      "image prometheus",
      "image redis",
      "image toxiproxy",
      "image node-runtime",
      "image node-service",
      "image payments-go",
    ]);
    // The backend images are current (requireDocker checked them).
    const backendImages = lines.filter(
      (l) => l.startsWith("image ") && !l.startsWith("image node-") && !l.startsWith("image payments-go"),
    );
    expect(backendImages.every((l) => l.endsWith(" current"))).toBe(true);
  });

  test("setup --check reports one line per tool and exits 2 when one is missing", async () => {
    const result = await runCli("harness/cli/setup.js", ["--check"], {
      MESHPROOF_REDIS_BIN: "/nonexistent/redis-server",
    });
    expect(result.code).toBe(2);
    const lines = result.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([
      "jaeger",
      "prometheus",
      "redis",
      "toxiproxy",
      "k6",
      "payments-go",
      "chromium",
      "hotrod",
      "xmllint",
      "zipkin",
    ]);
    expect(lines.find((l) => l.startsWith("redis"))).toMatch(/\/nonexistent\/redis-server \(override\)\s+missing$/);
    expect(lines.find((l) => l.startsWith("k6"))).toMatch(/^k6\s+v1\.8\.1\s+\S+\/k6-v1\.8\.1\/k6\s+found$/);
    expect(lines.find((l) => l.startsWith("zipkin"))).toMatch(
      /^zipkin\s+3\.6\.1\s+\S+\/zipkin-3\.6\.1\/zipkin\s+found$/,
    );
    expect(lines.filter((l) => l.endsWith(" found"))).toHaveLength(9);
  });
});
