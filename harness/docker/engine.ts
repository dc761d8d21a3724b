import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { env, toolCacheDir } from "../config/env";
import { ToolMissingError } from "../errors";
import { retryUntil } from "../util/retry";

/** The command that provisions Docker for meshproof: named by every error about a missing engine or image. */
export const DOCKER_SETUP_COMMAND = "npm run setup -- --with docker";

/**
 * How meshproof starts an engine when none answers: no bridge network at all (a bridge is private address space,
 * and nothing here may use it) and no iptables rules. Every container then runs with host networking.
 */
export const DOCKERD_ARGS = ["--bridge=none", "--iptables=false"] as const;

/** The engine's unix socket: DOCKER_HOST when it is a unix:// address, else /var/run/docker.sock. */
export function dockerSocketPath(): string {
  const host = env("DOCKER_HOST");
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

/** dockerd's arguments: DOCKERD_ARGS, and the socket when DOCKER_HOST names another than the default. */
export function dockerdArgs(): string[] {
  const socket = dockerSocketPath();
  return [...DOCKERD_ARGS, ...(socket === "/var/run/docker.sock" ? [] : [`--host=unix://${socket}`])];
}

/** Where meshproof's own dockerd (when it started one) writes its log. */
export function dockerdLogFile(): string {
  return path.join(toolCacheDir(), "docker", "dockerd.log");
}

export interface EngineResponse {
  status: number;
  body: string;
}

export interface EngineRequestOptions {
  /** Gives up after this long; 0 waits as long as the engine takes (a long poll: /wait, /logs?follow). Default 2000. */
  timeoutMs?: number;
  socketPath?: string;
  /** Sent as JSON (container create). */
  body?: unknown;
  /** The socket does not keep this process alive (a long poll that must not hold the harness open). */
  unref?: boolean;
}

/** One request to the Docker Engine API over its unix socket (no CLI involved: the reaper uses this too). */
export function engineRequest(
  method: string,
  apiPath: string,
  options: EngineRequestOptions = {},
): Promise<EngineResponse> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = http.request(
      {
        socketPath: options.socketPath ?? dockerSocketPath(),
        method,
        path: apiPath,
        headers: {
          host: "docker",
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    const timeoutMs = options.timeoutMs ?? 2_000;
    if (timeoutMs > 0)
      request.setTimeout(timeoutMs, () =>
        request.destroy(new Error(`no answer from the Docker engine within ${timeoutMs} ms`)),
      );
    if (options.unref) request.on("socket", (socket) => socket.unref());
    request.on("error", reject);
    request.end(payload);
  });
}

export type EngineState =
  | { answers: true; version: string; apiVersion: string }
  | { answers: false; reason: string; permissionDenied?: boolean };

/** Whether an engine answers on the socket, and its version (GET /version). Never throws. */
export async function engineState(timeoutMs = 2_000): Promise<EngineState> {
  const socket = dockerSocketPath();
  try {
    const response = await engineRequest("GET", "/version", { timeoutMs });
    if (response.status !== 200) return { answers: false, reason: `${socket} answered ${response.status}` };
    const info = JSON.parse(response.body) as { Version?: string; ApiVersion?: string };
    return { answers: true, version: info.Version ?? "unknown", apiVersion: info.ApiVersion ?? "unknown" };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES") {
      return { answers: false, reason: `permission denied on ${socket}`, permissionDenied: true };
    }
    if (code === "ENOENT") return { answers: false, reason: `no Docker engine socket at ${socket}` };
    if (code === "ECONNREFUSED") return { answers: false, reason: `nothing listens on ${socket}` };
    return { answers: false, reason: `${socket}: ${(error as Error).message}` };
  }
}

/** The error for "an engine is needed and none answers", naming the command that fixes it. */
export function engineMissingError(state: Extract<EngineState, { answers: false }>, needed: string): ToolMissingError {
  if (state.permissionDenied) {
    return new ToolMissingError(
      `${needed} needs the Docker engine, but ${state.reason}; run as root or add your user to the docker group ` +
        `(sudo usermod -aG docker "$USER", then log in again)`,
    );
  }
  return new ToolMissingError(
    `${needed} needs a Docker engine and none answers (${state.reason}); run "${DOCKER_SETUP_COMMAND}" ` +
      `(it installs docker.io and starts dockerd ${DOCKERD_ARGS.join(" ")})`,
  );
}

/**
 * Makes sure an engine answers: when none does, starts `dockerd --bridge=none --iptables=false` detached in its own
 * session with its log in the tool cache, and waits for it. meshproof never stops an engine (other runs, other
 * users may be using it). Needs root to start one; without root the error names the command to run.
 */
export async function ensureEngine(log: (line: string) => void): Promise<Extract<EngineState, { answers: true }>> {
  const state = await engineState();
  if (state.answers) return state;
  if (state.permissionDenied) throw engineMissingError(state, "meshproof's docker setup");
  const dockerd = await findOnPath("dockerd");
  if (!dockerd) {
    throw new ToolMissingError(`dockerd is not installed; run "${DOCKER_SETUP_COMMAND}" (installs docker.io)`);
  }
  if (process.getuid?.() !== 0) {
    throw new ToolMissingError(
      `no Docker engine answers (${state.reason}) and starting one needs root; run: ` +
        `sudo sh -c 'nohup dockerd ${dockerdArgs().join(" ")} >>/var/log/dockerd.log 2>&1 &' ` +
        `then "${DOCKER_SETUP_COMMAND}"`,
    );
  }
  const logFile = dockerdLogFile();
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, "a");
  const args = dockerdArgs();
  log(`starting ${dockerd} ${args.join(" ")} (log: ${logFile})`);
  try {
    const child = spawn(dockerd, args, { detached: true, stdio: ["ignore", out, out] });
    child.unref();
    let exited: string | undefined;
    child.once("exit", (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once("error", (error) => (exited = `could not start: ${error.message}`));
    const started = await retryUntil(
      () => engineState(),
      (s) => s.answers,
      {
        timeoutMs: 60_000,
        description: `dockerd answering on ${dockerSocketPath()}`,
        maxDelayMs: 250,
        failFast: () =>
          exited ? new ToolMissingError(`dockerd ${exited}; last lines of ${logFile}:\n${tail(logFile)}`) : undefined,
        onTimeout: () => `last lines of ${logFile}:\n${tail(logFile)}`,
      },
    );
    return started as Extract<EngineState, { answers: true }>;
  } finally {
    fs.closeSync(out);
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Full path of an executable on PATH, or undefined. */
export async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      await fs.promises.access(file, fs.constants.X_OK);
      if ((await fs.promises.stat(file)).isFile()) return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
