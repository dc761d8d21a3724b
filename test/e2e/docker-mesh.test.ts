import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BUILTIN_CONTRACTS } from "../../assertions/contract";
import { DockerBackend, RUN_LABEL, type StartedStack } from "../../harness/backends";
import { engineRequest } from "../../harness/docker/engine";
import { NODE_FLAGS, SERVICE_LABEL, startMesh, type SampleMesh } from "../../harness/mesh";
import { chooseMeshLauncher } from "../../harness/mesh/mesh-runtime";
import { retryUntil } from "../../harness/util/retry";
import { collect, pidAlive, spawnCli } from "../support/cli";
import { containerExists, labelledContainers, requireDockerMesh, runContainers } from "../support/docker";

const CHECKOUT = { items: [{ sku: "sku-1", qty: 1 }], card: "4111111111111111" };

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status;
  } catch (error) {
    return (error as Error).name;
  }
}

async function readyAgain(url: string): Promise<void> {
  await retryUntil(
    () => status(url),
    (s) => s === 200,
    { timeoutMs: 15_000, description: `GET ${url} = 200` },
  );
}

async function inspect(id: string): Promise<{
  State: { Status: string; Paused: boolean; Pid: number };
  Config: { Labels: Record<string, string>; User: string; Image: string };
}> {
  return JSON.parse((await engineRequest("GET", `/containers/${id}/json`)).body);
}

describe("the sample mesh in containers (--mesh-runtime docker)", () => {
  let stack: StartedStack;
  let mesh: SampleMesh;

  beforeAll(async () => {
    await requireDockerMesh(["node", "go"]);
    stack = await new DockerBackend().start();
    const { launcher } = await chooseMeshLauncher("docker", stack, {
      backendRequested: "docker",
      impls: ["node", "go"],
      log: () => undefined,
    });
    const started = performance.now();
    mesh = await startMesh(stack, { impl: { payments: "go" }, launcher });
    process.stderr.write(`docker mesh (payments=go) ready in ${Math.round(performance.now() - started)} ms\n`);
  }, 120_000);

  afterAll(async () => {
    await mesh?.stop();
    await stack?.stop();
  });

  test("each service is a container of the run: host network, run label, harness uid:gid, logs on the host", async () => {
    expect(mesh.kind).toBe("containers");
    const runId = path.basename(stack.runDir);
    for (const service of Object.values(mesh.services)) {
      const id = service.handle.containerId!;
      const info = await inspect(id);
      expect(info.Config.Labels).toMatchObject({ [RUN_LABEL]: runId, [SERVICE_LABEL]: service.name });
      expect(info.Config.User).toBe(`${process.getuid!()}:${process.getgid!()}`);
      expect(info.Config.Image).toMatch(/^sha256:/);
      expect(pidAlive(service.pid)).toBe(true);
    }
    // Go payments from meshproof/payments-go, judged by the go contract.
    expect(mesh.services.payments.impl).toBe("go");
    expect(mesh.services.payments.contract).toBe(BUILTIN_CONTRACTS.go);
    expect(fs.readFileSync(`/proc/${mesh.services.payments.pid}/cmdline`, "utf8")).toContain("payments-go");

    // The entry point passes the native mesh's V8 flags (one list: NODE_FLAGS) before the preload.
    const cmdline = fs.readFileSync(`/proc/${mesh.services.orders.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(1, 1 + NODE_FLAGS.length)).toEqual(NODE_FLAGS);
    expect(cmdline).toContain("/app/dist/services/orders/main.js");

    const response = await fetch(`${mesh.edgeUrl}/api/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "docker-mesh-1" },
      body: JSON.stringify(CHECKOUT),
    });
    expect(response.status).toBe(201);
    await mesh.flush();
    // Written inside the container, read on the host at the same path, owned by the harness's user.
    for (const service of Object.values(mesh.services)) {
      const log = fs.readFileSync(service.jsonLogFile, "utf8");
      expect(log).toContain("docker-mesh-1");
      expect(fs.statSync(service.jsonLogFile).uid).toBe(process.getuid!());
    }
  });

  test.each(["payments", "inventory"] as const)(
    "process faults on %s: docker pause/unpause, kill, start with the same ports, stop (SIGTERM drains)",
    async (name) => {
      const service = mesh.services[name];
      const id = service.handle.containerId!;
      const url = service.readyzUrl;

      await service.control.freeze();
      expect((await inspect(id)).State.Paused).toBe(true);
      expect(await status(url)).toBe("TimeoutError");
      await service.control.thaw();
      expect(await status(url)).toBe(200);

      const before = service.pid;
      await service.control.kill();
      expect(service.handle.running).toBe(false);
      expect(service.handle.exitDescription).toBe("killed by SIGKILL");
      expect(pidAlive(before)).toBe(false);
      expect(await status(url)).toBe("TypeError"); // connection refused
      await expect(service.control.start()).resolves.toBeUndefined();
      expect(service.handle.containerId).toBe(id);
      expect(service.pid).not.toBe(before);
      expect(pidAlive(service.pid)).toBe(true);
      await readyAgain(url);
      await expect(service.control.start()).rejects.toThrow(/is still running/);

      const started = performance.now();
      await service.control.stopGracefully();
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(service.handle.exitDescription).toBe("exited with code 0");
      await service.control.start();
      await readyAgain(url);
      // The mesh answers again end to end.
      await retryUntil(
        async () =>
          (
            await fetch(`${mesh.edgeUrl}/api/checkout`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(CHECKOUT),
            })
          ).status,
        (s) => s === 201,
        { timeoutMs: 10_000, description: "a checkout answering 201 after the restart" },
      );
    },
    60_000,
  );

  test("stop() drains every service (SIGTERM, exit 0) and removes its container", async () => {
    const ids = Object.values(mesh.services).map((s) => s.handle.containerId!);
    const started = performance.now();
    await Promise.all([mesh.stop(), mesh.stop()]);
    process.stderr.write(`docker mesh stop ${Math.round(performance.now() - started)} ms\n`);
    for (const id of ids) expect(await containerExists(id)).toBe(false);
    expect(Object.values(mesh.services).map((s) => s.handle.exitDescription)).toEqual(
      Object.values(mesh.services).map(() => "exited with code 0"),
    );
  });
});

describe("no orphans: the mesh's containers go with the harness", () => {
  beforeAll(() => requireDockerMesh(["node"]));

  /** Runs baseline on a docker mesh; resolves once its four service containers run, with their ids and pids. */
  async function startRun(backend: string) {
    const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-orphans-"));
    const child = spawnCli("harness/cli/scenario.js", [
      "baseline",
      "--backend",
      backend,
      "--mesh-runtime",
      "docker",
      "--report-dir",
      reportDir,
    ]);
    const closed = collect(child);
    // Runs of that harness are named <stamp>-<pid>-<random>.
    const ours = (runId: string) => runId.includes(`-${child.pid}-`);
    const services = await retryUntil(
      async () =>
        (await labelledContainers([RUN_LABEL, SERVICE_LABEL])).filter(
          (c) => ours(c.labels[RUN_LABEL]!) && c.state === "running",
        ),
      (running) => running.length === 4,
      {
        timeoutMs: 60_000,
        description: "the four mesh containers of the run",
        failFast: () => (child.exitCode !== null ? new Error(`the harness exited ${child.exitCode}`) : undefined),
      },
    );
    const pids = await Promise.all(services.map(async (c) => (await inspect(c.id)).State.Pid));
    return { child, closed, ours, ids: services.map((c) => c.id), pids };
  }

  async function nothingLeft(run: Awaited<ReturnType<typeof startRun>>): Promise<number> {
    const started = performance.now();
    await retryUntil(
      () => runContainers(run.ours),
      (left) => left.length === 0,
      {
        timeoutMs: 10_000,
        description: "every container of the run removed",
        maxDelayMs: 100,
      },
    );
    for (const id of run.ids) expect(await containerExists(id)).toBe(false);
    expect(run.pids.filter(pidAlive)).toEqual([]);
    return performance.now() - started;
  }

  test.each(["docker", "native"])(
    "a SIGKILLed harness (%s backend, docker mesh) leaves no mesh container or process 10 s later",
    async (backend) => {
      const run = await startRun(backend);
      run.child.kill("SIGKILL");
      expect((await run.closed).signal).toBe("SIGKILL");
      const ms = await nothingLeft(run);
      process.stderr.write(`mesh containers (${backend} backend) removed ${Math.round(ms)} ms after the SIGKILL\n`);
    },
    90_000,
  );

  test("SIGTERM during the mesh's start stops the run at once (exit 2) and removes the mesh's containers", async () => {
    const run = await startRun("docker");
    const signalled = performance.now();
    run.child.kill("SIGTERM");
    const result = await run.closed;
    // Not after a whole scenario: the start's readiness wait and the load take the abort.
    expect(performance.now() - signalled).toBeLessThan(8_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/baseline: ABORTED in \d+ ms: aborted by SIGTERM/);
    expect(result.stderr).toContain("SIGTERM received");
    await nothingLeft(run);
  }, 90_000);
});
