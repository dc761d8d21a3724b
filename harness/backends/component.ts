import fs from "node:fs";
import path from "node:path";
import { assertPortFree, freePort } from "../util/ports";
import { retryUntil } from "../util/retry";

export interface ComponentSpec<P extends string> {
  /** Name used for the log file, the container and in messages. */
  name: string;
  portNames: readonly P[];
  /** Ports the user fixed; the rest are chosen free at run time. */
  fixedPorts?: Partial<Record<P, number>>;
  /** Writes any config files into dir and returns the tool's arguments for the given ports. */
  args(ports: Record<P, number>, dir: string): string[];
  /** A real readiness check (an HTTP endpoint, a PING); true when ready. */
  ready(ports: Record<P, number>): Promise<boolean>;
  /** What ready() checks, for the timeout message. */
  readyDescription(ports: Record<P, number>): string;
  readyTimeoutMs?: number;
}

/** One running backend tool: a process group (native) or a container (docker). stop() is idempotent. */
export interface RunningComponent {
  /** Host pid of the tool's main process. */
  readonly pid: number;
  /** The container's id, for a tool running in a container. */
  readonly containerId?: string;
  readonly running: boolean;
  /** How it ended ("exited with code 1"), once it has. */
  readonly exitDescription: string | undefined;
  /** The last lines of its log file. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Where and how a tool runs: starts it and resolves once ready (rejecting, with the tool stopped, otherwise). */
export interface ComponentRunner {
  run<P extends string>(launch: ComponentLaunch<P>): Promise<RunningComponent>;
}

/** Everything a runner needs to start one tool. */
export interface ComponentLaunch<P extends string> {
  spec: ComponentSpec<P>;
  ports: Record<P, number>;
  args: string[];
  /** The tool's own directory (configs, data); its working directory. */
  dir: string;
  /** The run directory (bind-mounted into a container at the same path). */
  runDir: string;
  logFile: string;
}

export interface StartedComponent<P extends string> {
  handle: RunningComponent;
  ports: Record<P, number>;
  dir: string;
}

const BIND_FAILURE = /address already in use|EADDRINUSE/i;
const ATTEMPTS_WITH_CHOSEN_PORTS = 3;

/**
 * Starts one backend tool in runDir/<name>/ with its log in runDir/logs/<name>.log and waits for its readiness
 * check, through the runner (process or container). Ports chosen at run time can be lost to another process between
 * choosing and binding; such a start is retried with new ports. A fixed port that is taken fails at once with
 * PortInUseError.
 */
export async function startComponent<P extends string>(
  spec: ComponentSpec<P>,
  runDir: string,
  runner: ComponentRunner,
): Promise<StartedComponent<P>> {
  const dir = path.join(runDir, spec.name);
  const logFile = path.join(runDir, "logs", `${spec.name}.log`);
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fixed: Partial<Record<P, number>> = spec.fixedPorts ?? {};
  for (const [name, port] of Object.entries(fixed) as [P, number][]) await assertPortFree(port, `${spec.name} ${name}`);

  for (let attempt = 1; ; attempt++) {
    const ports = {} as Record<P, number>;
    for (const name of spec.portNames) ports[name] = fixed[name] ?? (await freePort());
    const args = spec.args(ports, dir);
    try {
      const handle = await runner.run({ spec, ports, args, dir, runDir, logFile });
      return { handle, ports, dir };
    } catch (error) {
      const lostPort = BIND_FAILURE.test(logTail(logFile, 40)) && Object.keys(fixed).length === 0;
      if (!lostPort || attempt >= ATTEMPTS_WITH_CHOSEN_PORTS) throw error;
    }
  }
}

/**
 * Polls spec.ready until it holds: the one readiness wait of every runner (the docker runner wraps it in a
 * testcontainers wait strategy). Fails early when the tool has exited, with its last log lines.
 */
export async function waitReady<P extends string>(
  launch: ComponentLaunch<P>,
  exited: () => string | undefined,
  timeoutMs = launch.spec.readyTimeoutMs ?? 30_000,
): Promise<void> {
  const { spec, ports, logFile } = launch;
  await retryUntil(() => spec.ready(ports), Boolean, {
    timeoutMs,
    description: `${spec.name} readiness (${spec.readyDescription(ports)})`,
    maxDelayMs: 100,
    failFast: () => {
      const how = exited();
      return how
        ? new Error(`${spec.name} ${how} before it was ready; last log lines:\n${logTail(logFile)}`)
        : undefined;
    },
    onTimeout: () => `last log lines of ${logFile}:\n${logTail(logFile)}`,
  });
}

/** The last n lines of a log file. */
export function logTail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, "utf8").trimEnd();
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** The compose/ directory (next to dist/ in a checkout) holding the backends' config templates and Dockerfiles. */
export const COMPOSE_DIR = path.resolve(__dirname, "..", "..", "..", "compose");

/** Reads compose/<name> and fills its ${NAME} placeholders; an unfilled placeholder is an error. */
export function renderTemplate(name: string, values: Record<string, string | number>): string {
  return fs.readFileSync(path.join(COMPOSE_DIR, name), "utf8").replace(/\$\{(\w+)\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`compose/${name}: no value for \${${key}}`);
    return String(value);
  });
}

/** GET url and report whether it answered with the expected status. */
export async function httpOk(url: string, expectedStatus = 200): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await response.arrayBuffer();
  return response.status === expectedStatus;
}
