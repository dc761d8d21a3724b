import path from "node:path";
import { resolveTool } from "../tools/tools";
import { ManagedProcess } from "../util/managed-process";
import type { LaunchedService, ServiceLauncher, ServiceLaunch } from "./launcher";

/**
 * V8 flags of every Node service, native or in a container (harness/docker/images.ts bakes this same list into the
 * node-service image). A 1 MB young generation makes even a lightly loaded service collect garbage often enough for
 * its GC metrics to move within a scenario; --expose-gc lets the revert of a memory fault collect what it held at once
 * (services/lib/resource-faults.ts).
 */
export const NODE_FLAGS = ["--max-semi-space-size=1", "--expose-gc"];

/** dist/ of this build: services run from the compiled output next to the harness. */
function distRoot(): string {
  return path.resolve(__dirname, "../..");
}

/**
 * Runs each service as a native process in its own process group (on the lifeline), from this build's dist/ (Node)
 * or the tool cache (Go). Process faults are signals to the group; start() spawns it again with the same command.
 */
export function processLauncher(): ServiceLauncher {
  let goBinary: Promise<string> | undefined;
  return {
    kind: "native processes",
    async launch(service) {
      const command =
        service.impl === "go"
          ? await goCommand(service, (goBinary ??= resolveTool("payments-go").then((t) => t.path)))
          : nodeCommand(service);
      const spawn = () =>
        ManagedProcess.spawn({ name: service.name, ...command, logFile: service.logFile, cwd: distRoot() });
      return new ProcessService(service.name, spawn, await spawn());
    },
  };
}

const BASE_ENV = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" });

async function goCommand(service: ServiceLaunch, binary: Promise<string>) {
  return { command: await binary, args: [], env: { ...BASE_ENV(), ...service.env } };
}

function nodeCommand(service: ServiceLaunch) {
  const dist = distRoot();
  return {
    command: process.execPath,
    args: [
      ...NODE_FLAGS,
      ...service.nodeArgs,
      ...(service.telemetry === "none" ? [] : ["--require", path.join(dist, "services/lib/telemetry.js")]),
      path.join(dist, "services", service.name, "main.js"),
    ],
    env: {
      ...BASE_ENV(),
      NODE_ENV: "production",
      // Metrics go through prom-client, logs through pino: the OTel SDK exports traces only (a user's OTEL_* in
      // service.env may still say otherwise). The node-service image sets the same.
      OTEL_METRICS_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      ...(service.telemetry === "sdk-disabled" ? { OTEL_SDK_DISABLED: "true" } : {}),
      ...service.env,
    },
  };
}

/** A service as a native process group: signals for the process faults, a fresh spawn for start(). */
export class ProcessService implements LaunchedService {
  constructor(
    private readonly name: string,
    private readonly spawn: () => Promise<ManagedProcess>,
    private process: ManagedProcess,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  get exitDescription(): string | undefined {
    return this.process.exitDescription;
  }

  logTail(lines = 20): string {
    return this.process.logTail(lines);
  }

  async kill(): Promise<void> {
    this.process.signal("SIGKILL");
    await this.process.waitForExit();
  }

  async freeze(): Promise<void> {
    this.process.signal("SIGSTOP");
  }

  async thaw(): Promise<void> {
    this.process.signal("SIGCONT");
  }

  async start(): Promise<void> {
    if (this.process.running) throw new Error(`${this.name} (pid ${this.pid}) is still running`);
    this.process = await this.spawn();
  }

  stopGracefully(): Promise<void> {
    return this.process.stop(6_000);
  }

  dispose(): Promise<void> {
    // A frozen process would only take the SIGTERM once thawed.
    if (this.process.running) this.process.signal("SIGCONT");
    return this.process.stop(6_000);
  }
}
