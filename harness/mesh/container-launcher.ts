import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { RUN_LABEL } from "../backends/docker-backend";
import { logTail } from "../backends/component";
import { dockerSocketPath, engineRequest, type EngineRequestOptions } from "../docker/engine";
import { lifeline } from "../lifeline/lifeline";
import type { LaunchedService, ServiceLauncher, ServiceLaunch } from "./launcher";
import type { Impl } from "./sample-mesh";

/** Label naming the mesh service a container runs (besides the run's meshproof.run label). */
export const SERVICE_LABEL = "meshproof.service";

/** The image each implementation runs from: an image id (or tag) of meshproof/node-service, meshproof/payments-go. */
export type MeshImages = Partial<Record<Impl, string>>;

/** How long docker stop waits after SIGTERM before SIGKILL: the native mesh's grace. */
const STOP_GRACE_S = 6;

/**
 * Runs each mesh service as a container: host network (every listener still on 127.0.0.1), labelled with the run id
 * (the lifeline removes the run's containers however the harness ends), the service's log directory bind-mounted at
 * its own path (so its JSON log stays a host file), as the harness's uid:gid, its stdout/stderr streamed to the
 * same log file a process would write. Process faults map to the engine: kill, pause, unpause, start (the same
 * container: same ports and environment), stop.
 *
 * The Engine API is used directly (not testcontainers): a container here is restarted in place by the process
 * faults, which testcontainers' lifecycle does not model, and a mesh start then costs no module load.
 */
export class ContainerLauncher implements ServiceLauncher {
  readonly kind = "containers";

  /** runId: the value of the meshproof.run label (the stack's run id). */
  constructor(
    private readonly runId: string,
    private readonly images: MeshImages,
  ) {
    // Before the first container exists; the docker backend registered the same label already, a native one not.
    lifeline.watchContainers(`${RUN_LABEL}=${runId}`);
  }

  async launch(service: ServiceLaunch): Promise<LaunchedService> {
    const image = this.images[service.impl];
    if (!image) throw new Error(`no image for the ${service.impl} implementation of ${service.name}`);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const name = `meshproof-${this.runId}-${service.name}-${crypto.randomBytes(3).toString("hex")}`;
    const env = { ...service.env, ...(service.impl === "node" ? { MESHPROOF_TELEMETRY: service.telemetry } : {}) };
    const created = await engine("POST", `/containers/create?name=${name}`, {
      body: {
        Image: image,
        // The node-service entry point takes the service's name and node flags after NODE_FLAGS; payments-go none.
        ...(service.impl === "node" ? { Cmd: [service.name, ...service.nodeArgs] } : {}),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        User: `${uid}:${gid}`,
        Labels: { [RUN_LABEL]: this.runId, [SERVICE_LABEL]: service.name, "meshproof.impl": service.impl },
        StopTimeout: STOP_GRACE_S,
        HostConfig: {
          // docker-init as pid 1 forwards signals: a service not yet past its start-up takes SIGTERM's default
          // action as a native process does (a pid 1 without a handler would ignore it until the SIGKILL).
          Init: true,
          NetworkMode: "host",
          Binds: [`${service.logDir}:${service.logDir}:rw`],
        },
      },
      expect: [201],
    });
    const id = (JSON.parse(created.body) as { Id: string }).Id;
    const container = new ServiceContainer(service.name, id, service.logFile);
    try {
      await container.start();
    } catch (error) {
      await container.dispose();
      throw error;
    }
    return container;
  }
}

/** One service's container: its main process's pid, exit, log stream, and the process faults through the engine. */
class ServiceContainer implements LaunchedService {
  pid = 0;
  exitDescription: string | undefined = "not started";
  private exited: Promise<void> = Promise.resolve();
  private logs: Promise<void> = Promise.resolve();
  /** Log frames already copied to the log file: a new stream after a restart starts with these again. */
  private framesWritten = 0;
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    readonly containerId: string,
    private readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.exitDescription === undefined;
  }

  logTail(lines = 20): string {
    return logTail(this.logFile, lines);
  }

  async kill(): Promise<void> {
    await engine("POST", `/containers/${this.containerId}/kill`, { expect: [204, 409] });
    await this.exited;
  }

  async freeze(): Promise<void> {
    await engine("POST", `/containers/${this.containerId}/pause`, { expect: [204] });
  }

  async thaw(): Promise<void> {
    await engine("POST", `/containers/${this.containerId}/unpause`, { expect: [204] });
  }

  /** Starts the container (again, after a kill or a stop): the same ports and environment. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} (container ${this.containerId.slice(0, 12)}) is still running`);
    // The previous stream ends once the engine has delivered its last lines; the new one repeats them first.
    await Promise.race([this.logs, sleep(2_000, undefined, { ref: false })]);
    await engine("POST", `/containers/${this.containerId}/start`, { expect: [204] });
    this.exitDescription = undefined;
    const inspected = await engine("GET", `/containers/${this.containerId}/json`, { expect: [200] });
    this.pid = await servicePid((JSON.parse(inspected.body) as { State?: { Pid?: number } }).State?.Pid ?? 0);
    this.exited = this.watchExit();
    this.logs = this.followLogs();
  }

  /** docker stop: SIGTERM, SIGKILL after the grace period; resolves once it has exited. */
  async stopGracefully(): Promise<void> {
    await engine("POST", `/containers/${this.containerId}/stop?t=${STOP_GRACE_S}`, {
      expect: [204, 304],
      timeoutMs: (STOP_GRACE_S + 10) * 1_000,
    });
    await this.exited;
  }

  /** Stops it as the native mesh does (SIGTERM, SIGKILL after the grace period) and removes the container. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (this.running) {
        // docker stop does not stop a paused container.
        await engine("POST", `/containers/${this.containerId}/unpause`).catch(() => undefined);
        await this.stopGracefully().catch(() => undefined);
      }
      await Promise.race([this.logs, sleep(2_000, undefined, { ref: false })]);
      await engine("DELETE", `/containers/${this.containerId}?force=1&v=1`, { expect: [204, 404], timeoutMs: 10_000 });
    })();
    return this.disposing;
  }

  /** The engine's wait (a long poll that does not hold the harness open) sets exitDescription. */
  private async watchExit(): Promise<void> {
    try {
      const response = await engineRequest("POST", `/containers/${this.containerId}/wait?condition=not-running`, {
        timeoutMs: 0,
        unref: true,
      });
      const code = (JSON.parse(response.body) as { StatusCode?: number }).StatusCode ?? -1;
      this.exitDescription = exitDescription(code);
    } catch (error) {
      this.exitDescription = `lost (${(error as Error).message})`;
    }
  }

  /** Appends the container's stdout/stderr to the log file (the engine's multiplexed stream, demultiplexed). */
  private followLogs(): Promise<void> {
    const skip = this.framesWritten;
    let seen = 0;
    return new Promise((resolve) => {
      const out = fs.createWriteStream(this.logFile, { flags: "a" });
      out.on("error", () => undefined);
      const done = () => out.end(() => resolve());
      const request = http.request(
        {
          socketPath: dockerSocketPath(),
          method: "GET",
          path: `/containers/${this.containerId}/logs?follow=1&stdout=1&stderr=1`,
          headers: { host: "docker" },
        },
        (response) => {
          let pending = Buffer.alloc(0);
          response.on("data", (chunk: Buffer) => {
            pending = Buffer.concat([pending, chunk]);
            // Frames: 1 byte stream, 3 zero bytes, 4 bytes big-endian length, payload.
            while (pending.length >= 8) {
              const size = pending.readUInt32BE(4);
              if (pending.length < 8 + size) break;
              if (seen++ >= skip) {
                out.write(pending.subarray(8, 8 + size));
                this.framesWritten++;
              }
              pending = pending.subarray(8 + size);
            }
          });
          response.on("end", done);
          response.on("error", done);
        },
      );
      request.on("socket", (socket) => socket.unref());
      request.on("error", done);
      request.end();
    });
  }
}

/**
 * The host pid of the service itself: the one child of the container's init (whose pid the engine reports), or the
 * init's pid when /proc does not tell (another pid namespace, no CONFIG_PROC_CHILDREN).
 */
async function servicePid(initPid: number): Promise<number> {
  for (let attempt = 0; initPid > 0 && attempt < 20; attempt++) {
    try {
      const children = fs.readFileSync(`/proc/${initPid}/task/${initPid}/children`, "utf8").trim();
      if (children) return Number(children.split(" ")[0]);
    } catch {
      break;
    }
    await sleep(25);
  }
  return initPid;
}

/** "exited with code 0", or "killed by SIGKILL" for 128 + a signal's number (how the engine reports it). */
function exitDescription(code: number): string {
  const signal = Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0];
  return code > 128 && signal ? `killed by ${signal}` : `exited with code ${code}`;
}

/** An Engine API request that throws, naming the call and the engine's answer, unless the status is expected. */
async function engine(
  method: string,
  apiPath: string,
  options: EngineRequestOptions & { expect?: number[] } = {},
): Promise<{ status: number; body: string }> {
  const response = await engineRequest(method, apiPath, { timeoutMs: 10_000, ...options });
  if (options.expect && !options.expect.includes(response.status)) {
    const message = response.body.trim().replace(/^\{"message":"(.*)"\}$/, "$1");
    throw new Error(`docker ${method} ${apiPath.split("?")[0]}: the engine answered ${response.status} ${message}`);
  }
  return response;
}
