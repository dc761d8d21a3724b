import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Each output line is passed here as it arrives (stdout and stderr). */
  log?: (line: string) => void;
  /** Piped to the command's stdin. */
  input?: Readable;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion, collecting (and optionally streaming) its output. Never rejects on exit code. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input ? "pipe" : "ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let pending = "";
    const onData = (chunk: Buffer, sink: "out" | "err") => {
      const text = chunk.toString();
      if (sink === "out") stdout += text;
      else stderr += text;
      if (!options.log) return;
      const lines = (pending + text).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.log(`  ${line}`);
    };
    child.stdout!.on("data", (chunk: Buffer) => onData(chunk, "out"));
    child.stderr!.on("data", (chunk: Buffer) => onData(chunk, "err"));
    if (options.input && child.stdin) {
      options.input.pipe(child.stdin);
      child.stdin.on("error", () => undefined); // the command may exit before reading everything; its code says why
    }
    child.once("error", reject);
    child.once("close", (code) => {
      if (pending && options.log) options.log(`  ${pending}`);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/**
 * Runs the docker CLI. The classic builder is asked for explicitly (DOCKER_BUILDKIT=0): a newer CLI without the
 * buildx plugin would otherwise refuse or warn, and the classic builder is all `docker build --network host` needs.
 */
export function docker(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand("docker", args, { ...options, env: { ...process.env, DOCKER_BUILDKIT: "0", ...options.env } });
}
