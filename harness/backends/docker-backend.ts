import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import type { StartedTestContainer, WaitStrategy } from "testcontainers";
import { DOCKER_SETUP_COMMAND, engineMissingError, engineRequest, engineState } from "../docker/engine";
import { BACKEND_IMAGES, ImageBuilder, TOOL_VERSION_LABEL } from "../docker/images";
import { ToolMissingError } from "../errors";
import { lifeline } from "../lifeline/lifeline";
import type { BackendToolName, ToolStatus } from "../tools/tools";
import { logTail, waitReady, type ComponentLaunch, type ComponentRunner, type RunningComponent } from "./component";
import { createRunDir, startComponentStack } from "./component-stack";
import type { Backend, BackendStartOptions, StartedStack } from "./stack";

/** Label carried by every container of a run; the lifeline removes the run's containers by it. */
export const RUN_LABEL = "meshproof.run";

/**
 * Testcontainers settings the harness owns. Ryuk (testcontainers' reaper) is a container image that cannot be
 * pulled here, so it is off and the harness's own lifeline removes a run's containers by label. The host override
 * keeps testcontainers from probing a bridge network's gateway (there is none: dockerd runs with --bridge=none).
 */
function configureTestcontainers(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  process.env.TESTCONTAINERS_HOST_OVERRIDE = "127.0.0.1";
}

/**
 * Jaeger, Prometheus, Redis and Toxiproxy as containers of the locally built meshproof/* images (testcontainers,
 * host networking, every listener on 127.0.0.1, ports chosen free at run time). The run directory is bind-mounted at
 * its own path, so configs, Prometheus's file_sd targets and data are where the native backend has them. Images are
 * never pulled: a missing or outdated one is an error naming `npm run setup -- --with docker`.
 */
export class DockerBackend implements Backend {
  readonly name = "docker";

  /** images: the result of a check already made (by `auto`); default: checked at start. */
  constructor(private readonly checked?: DockerBackendImages) {}

  async start(options: BackendStartOptions = {}): Promise<StartedStack> {
    const engine = await engineState();
    if (!engine.answers) throw engineMissingError(engine, "--backend docker");
    // Loading testcontainers takes about half a second: overlap it with the image check.
    const loading = import("testcontainers");
    loading.catch(() => undefined);
    const images = this.checked ?? (await dockerBackendImages(options.tools));
    if (images.problem)
      throw new ToolMissingError(`--backend docker: ${images.problem}; run "${DOCKER_SETUP_COMMAND}"`);
    configureTestcontainers();

    const runDir = createRunDir();
    const runId = path.basename(runDir);
    // Before the first container exists: however this process ends, the lifeline removes the run's containers.
    lifeline.watchContainers(`${RUN_LABEL}=${runId}`);
    const runner = (tool: BackendToolName) => containerRunner(images.tags[tool], runId, tool);
    return startComponentStack(
      {
        backend: this.name,
        runDir,
        tools: images.versions,
        runners: {
          jaeger: runner("jaeger"),
          prometheus: runner("prometheus"),
          redis: runner("redis"),
          toxiproxy: runner("toxiproxy"),
        },
      },
      options,
    );
  }
}

export interface DockerBackendImages {
  tags: Record<BackendToolName, string>;
  versions: Record<BackendToolName, string>;
  /** Why the images cannot be used, when they cannot. */
  problem?: string;
}

/**
 * The backend images' tags and tool versions, or why they cannot be used (missing, or built from other inputs than
 * the current ones: a changed Dockerfile, a rebuilt binary, another Debian package version).
 */
export async function dockerBackendImages(tools?: readonly ToolStatus[]): Promise<DockerBackendImages> {
  const states = await new ImageBuilder({ tools }).states(["base", ...BACKEND_IMAGES]);
  const tags = {} as Record<BackendToolName, string>;
  const versions = {} as Record<BackendToolName, string>;
  const missing = states.filter((s) => !s.present).map((s) => s.tag);
  const stale = states.filter((s) => s.present && !s.current).map((s) => s.tag);
  for (const state of states) {
    if (state.name === "base") continue;
    const tool = state.name as BackendToolName;
    tags[tool] = state.tag;
    versions[tool] = state.labels[TOOL_VERSION_LABEL] ?? "unknown";
  }
  const unplannable = states.find((s) => s.problem);
  const problem = unplannable?.problem
    ? unplannable.problem
    : missing.length > 0
      ? `image${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not built`
      : stale.length > 0
        ? `image${stale.length > 1 ? "s" : ""} ${stale.join(", ")} built from older inputs`
        : undefined;
  return { tags, versions, problem };
}

/** Runs a tool as a container of image: host network, the run's label, the run dir bind-mounted, never pulled. */
function containerRunner(image: string, runId: string, tool: BackendToolName): ComponentRunner {
  return {
    async run<P extends string>(launch: ComponentLaunch<P>): Promise<RunningComponent> {
      const { GenericContainer } = await import("testcontainers");
      const exit = new ExitWatch();
      const log = fs.createWriteStream(launch.logFile, { flags: "a" });
      log.on("error", () => undefined);
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      const container = new GenericContainer(image)
        .withName(`meshproof-${runId}-${tool}`)
        .withNetworkMode("host")
        .withPullPolicy({ shouldPull: () => false })
        .withLabels({ [RUN_LABEL]: runId, "meshproof.tool": tool })
        .withBindMounts([{ source: launch.runDir, target: launch.runDir, mode: "rw" }])
        // Files in the run directory stay the harness user's, so a clean stop can remove them.
        .withUser(`${uid}:${gid}`)
        .withWorkingDir(launch.dir)
        .withCommand(launch.args)
        .withLogConsumer((stream: Readable) => stream.pipe(log))
        .withWaitStrategy(new ReadinessWaitStrategy(launch, exit))
        .withStartupTimeout(launch.spec.readyTimeoutMs ?? 30_000);
      // On a failed wait testcontainers stops and removes the container itself, then rethrows.
      const started = await container.start();
      const inspected = await engineRequest("GET", `/containers/${started.getId()}/json`);
      const pid = (JSON.parse(inspected.body) as { State?: { Pid?: number } }).State?.Pid ?? 0;
      return new ContainerComponent(started, pid, launch.logFile, exit);
    },
  };
}

/** Learns when a container exits (the engine's wait endpoint), for fail-fast readiness and `running`. */
class ExitWatch {
  description: string | undefined;

  watch(container: { wait(): Promise<{ StatusCode?: number }> }): void {
    container.wait().then(
      (result) => (this.description = `exited with code ${result.StatusCode}`),
      () => undefined,
    );
  }
}

/** The native readiness check (waitReady: HTTP endpoint, PING) as a testcontainers wait strategy. */
class ReadinessWaitStrategy implements WaitStrategy {
  private timeoutMs: number;
  private timeoutSet = false;

  constructor(
    private readonly launch: ComponentLaunch<string>,
    private readonly exit: ExitWatch,
  ) {
    this.timeoutMs = launch.spec.readyTimeoutMs ?? 30_000;
  }

  async waitUntilReady(container: Parameters<WaitStrategy["waitUntilReady"]>[0]): Promise<void> {
    this.exit.watch(container);
    await waitReady(this.launch, () => this.exit.description, this.timeoutMs);
  }

  withStartupTimeout(startupTimeoutMs: number): WaitStrategy {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

class ContainerComponent implements RunningComponent {
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly container: StartedTestContainer,
    readonly pid: number,
    private readonly logFile: string,
    private readonly exit: ExitWatch,
  ) {}

  get containerId(): string {
    return this.container.getId();
  }

  get running(): boolean {
    return this.exit.description === undefined;
  }

  get exitDescription(): string | undefined {
    return this.exit.description;
  }

  logTail(lines = 20): string {
    return logTail(this.logFile, lines);
  }

  /** docker stop (SIGTERM, SIGKILL after 2 s) and remove; one already gone is not an error. */
  stop(): Promise<void> {
    this.stopping ??= this.container.stop({ timeout: 2_000, remove: true }).then(
      () => undefined,
      async () => {
        const removed = await engineRequest("DELETE", `/containers/${this.containerId}?force=1&v=1`, {
          timeoutMs: 10_000,
        });
        if (removed.status !== 204 && removed.status !== 404) {
          throw new Error(
            `could not remove container ${this.containerId}: engine answered ${removed.status} ${removed.body}`,
          );
        }
      },
    );
    return this.stopping;
  }
}
