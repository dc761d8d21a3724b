import fs from "node:fs";
import path from "node:path";
import { ManagedProcess } from "../../util/managed-process";
import { retryUntil } from "../../util/retry";
import { L7ProxyClient } from "./client";

export interface L7ProxyProcessOptions {
  /** The process's stdout and stderr are appended here. */
  logFile: string;
  /** The control API's address. Default 127.0.0.1:0 (the process picks a free port and prints it). */
  control?: string;
  /** Give up when it has not printed its control URL by then. Default 10 s. */
  startTimeoutMs?: number;
}

/** A running L7 proxy process (own process group, on the lifeline). */
export interface L7ProxyProcess {
  /** http://127.0.0.1:PORT of its control API. */
  url: string;
  client: L7ProxyClient;
  process: ManagedProcess;
  /** SIGTERM, SIGKILL after a grace period; idempotent. */
  stop(): Promise<void>;
}

const CONTROL_LINE = /^\{"control":"(http:\/\/127\.0\.0\.1:\d+)"\}$/m;

/**
 * Starts main.js under this Node (process.execPath) and resolves once it printed its control URL. Rejects, with
 * the process stopped, when it exits first or the deadline passes; the error carries its last log lines.
 */
export async function startL7ProxyProcess(options: L7ProxyProcessOptions): Promise<L7ProxyProcess> {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  // The log is appended to: only what this run writes counts.
  const from = fs.existsSync(options.logFile) ? fs.statSync(options.logFile).size : 0;
  const child = await ManagedProcess.spawn({
    name: "l7-proxy",
    command: process.execPath,
    args: [path.join(__dirname, "main.js"), "--control", options.control ?? "127.0.0.1:0"],
    logFile: options.logFile,
  });
  try {
    const url = await retryUntil(
      async () => controlUrl(options.logFile, from),
      (found) => found !== undefined,
      {
        timeoutMs: options.startTimeoutMs ?? 10_000,
        description: `l7-proxy printing its control URL (pid ${child.pid})`,
        maxDelayMs: 50,
        failFast: () =>
          child.running
            ? undefined
            : new Error(
                `l7-proxy ${child.exitDescription} before it printed its control URL; last log lines:\n${child.logTail()}`,
              ),
        onTimeout: () => `last log lines of ${options.logFile}:\n${child.logTail()}`,
      },
    );
    return { url: url!, client: new L7ProxyClient(url!), process: child, stop: () => child.stop() };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

function controlUrl(logFile: string, from: number): string | undefined {
  const text = fs.readFileSync(logFile).subarray(from).toString("utf8");
  return CONTROL_LINE.exec(text)?.[1];
}
