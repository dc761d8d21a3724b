import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, runRootDir } from "../config/env";
import type { BackendToolName } from "../tools/tools";
import type { ComponentRunner, StartedComponent } from "./component";
import { startJaeger, type StartedJaeger } from "./jaeger";
import { startPrometheus, type StartedPrometheus } from "./prometheus";
import { startRedis, type StartedRedis } from "./redis";
import type { BackendStartOptions, StartedStack } from "./stack";
import { startToxiproxy, type StartedToxiproxy } from "./toxiproxy";

/** A fresh directory for one run; unique across concurrent runs on one machine. Its name is the run id. */
export function createRunDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const dir = path.join(runRootDir(), `${stamp}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export interface StackParts {
  backend: string;
  runDir: string;
  /** Version of each tool in use. */
  tools: Record<BackendToolName, string>;
  /** How each tool runs (processes, containers). */
  runners: Record<BackendToolName, ComponentRunner>;
}

/**
 * Starts the four tools at once through their runners and assembles the StartedStack. A start that fails half-way
 * stops what already started and rethrows the first failure.
 */
export async function startComponentStack(parts: StackParts, options: BackendStartOptions): Promise<StartedStack> {
  const { runDir, runners } = parts;
  const ports = options.ports ?? {};
  const starts = await Promise.allSettled([
    startJaeger(runners.jaeger, runDir, {
      maxTraces: options.jaegerMaxTraces,
      fixedPorts: {
        otlpGrpc: ports["jaeger-otlp-grpc"],
        otlpHttp: ports["jaeger-otlp-http"],
        query: ports["jaeger-query"],
      },
    }),
    startPrometheus(runners.prometheus, runDir, ports.prometheus),
    startRedis(runners.redis, runDir, ports.redis),
    startToxiproxy(runners.toxiproxy, runDir, ports.toxiproxy),
  ]);
  const started = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value.component] : []));
  const failure = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) {
    await Promise.all(started.map((c) => c.handle.stop()));
    throw failure.reason;
  }
  const [jaeger, prometheus, redis, toxiproxy] = starts.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
    StartedJaeger,
    StartedPrometheus,
    StartedRedis,
    StartedToxiproxy,
  ];
  return new ComponentStack(
    parts,
    jaeger,
    prometheus,
    redis,
    toxiproxy,
    options.keepRunDir ?? env("MESHPROOF_KEEP_RUN_DIR") === "true",
  );
}

class ComponentStack implements StartedStack {
  readonly backend: string;
  readonly runDir: string;
  readonly tools: Record<BackendToolName, string>;
  private stopping: Promise<void> | undefined;
  private readonly components: StartedComponent<string>[];

  constructor(
    parts: StackParts,
    readonly jaeger: StartedJaeger,
    readonly prometheus: StartedPrometheus,
    readonly redis: StartedRedis,
    readonly toxiproxy: StartedToxiproxy,
    private readonly keepRunDir: boolean,
  ) {
    this.backend = parts.backend;
    this.runDir = parts.runDir;
    this.tools = parts.tools;
    this.components = [jaeger.component, prometheus.component, redis.component, toxiproxy.component];
  }

  get traces() {
    return this.jaeger.traces;
  }

  pids(): number[] {
    return this.components.map((c) => c.handle.pid);
  }

  containers(): string[] {
    return this.components.flatMap((c) => (c.handle.containerId ? [c.handle.containerId] : []));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.components.map((c) => c.handle.stop()));
      if (!this.keepRunDir) fs.rmSync(this.runDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
