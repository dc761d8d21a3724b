import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";

/** The compiled project root (tests run from dist/test). */
export const DIST = path.resolve(__dirname, "../..");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts a compiled CLI (e.g. "harness/cli/stack.js") with the Node running the tests. */
export function spawnCli(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [path.join(DIST, script), ...args], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs a compiled CLI to completion and collects its output. */
export async function runCli(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const child = spawnCli(script, args, env);
  return collect(child);
}

export function collect(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Resolves with the first stdout line of a running child. */
export function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf("\n");
      if (end >= 0) resolve(buffered.slice(0, end));
    });
    child.once("close", (code) => reject(new Error(`exited ${code} before printing a line; stderr:\n${stderr}`)));
  });
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * What a run that should have passed says about why not, short enough for a CI excerpt: its failed assertions
 * (the list reporter's `✗` lines, with their consequences), its error lines, and its last 3 lines.
 */
export function whyFailed(result: CliResult): string {
  const lines = (result.stderr + result.stdout).split("\n");
  const told = lines.filter((line) => /^(\s*↳ )?✗|^(\S+: )?error\b|Error:/i.test(line.trimStart()));
  return [...told.slice(0, 30), "…", ...lines.filter(Boolean).slice(-3)].join("\n");
}
