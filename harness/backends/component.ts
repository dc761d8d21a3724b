import fs from "node:fs";
import path from "node:path";
import { assertPortFree, freePort } from "../util/ports";
import { ManagedProcess } from "../util/managed-process";
import { retryUntil } from "../util/retry";

export interface ComponentSpec<P extends string> {
  /** Name used for the log file and in messages. */
  name: string;
  portNames: readonly P[];
  /** Ports the user fixed; the rest are chosen free at run time. */
  fixedPorts?: Partial<Record<P, number>>;
  /** Writes any config files and returns the command line, for the given ports. */
  launch(ports: Record<P, number>, dir: string): { command: string; args: string[] };
  /** A real readiness check (an HTTP endpoint, a PING); true when ready. */
  ready(ports: Record<P, number>): Promise<boolean>;
  /** What ready() checks, for the timeout message. */
  readyDescription(ports: Record<P, number>): string;
  readyTimeoutMs?: number;
}

export interface StartedComponent<P extends string> {
  process: ManagedProcess;
  ports: Record<P, number>;
  dir: string;
}

const BIND_FAILURE = /address already in use|EADDRINUSE/i;
const ATTEMPTS_WITH_CHOSEN_PORTS = 3;

/**
 * Starts one backend process in runDir/<name>/ with its log in runDir/logs/<name>.log and waits for its readiness
 * check. Ports chosen at run time can be lost to another process between choosing and binding; such a start is
 * retried with new ports. A fixed port that is taken fails at once with PortInUseError.
 */
export async function startComponent<P extends string>(
  spec: ComponentSpec<P>,
  runDir: string,
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
    const { command, args } = spec.launch(ports, dir);
    const process = await ManagedProcess.spawn({ name: spec.name, command, args, logFile, cwd: dir });
    try {
      await retryUntil(() => spec.ready(ports), Boolean, {
        timeoutMs: spec.readyTimeoutMs ?? 30_000,
        description: `${spec.name} readiness (${spec.readyDescription(ports)})`,
        maxDelayMs: 100,
        failFast: () =>
          process.running
            ? undefined
            : new Error(
                `${spec.name} ${process.exitDescription} before it was ready; last log lines:\n${process.logTail()}`,
              ),
        onTimeout: () => `last log lines of ${logFile}:\n${process.logTail()}`,
      });
      return { process, ports, dir };
    } catch (error) {
      await process.stop();
      const lostPort = BIND_FAILURE.test(process.logTail(40)) && Object.keys(fixed).length === 0;
      if (!lostPort || attempt >= ATTEMPTS_WITH_CHOSEN_PORTS) throw error;
    }
  }
}

/** The compose/ directory (next to dist/ in a checkout) holding the backends' config templates. */
const COMPOSE_DIR = path.resolve(__dirname, "..", "..", "..", "compose");

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
