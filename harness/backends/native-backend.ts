import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, runRootDir } from "../config/env";
import { BACKEND_TOOL_NAMES, resolveTool, type BackendToolName } from "../tools/tools";
import { startJaeger, type StartedJaeger } from "./jaeger";
import { startPrometheus, type StartedPrometheus } from "./prometheus";
import { startRedis, type StartedRedis } from "./redis";
import type { Backend, BackendStartOptions, StartedStack } from "./stack";
import { startToxiproxy, type StartedToxiproxy } from "./toxiproxy";
import type { StartedComponent } from "./component";

/** A fresh directory for one run; unique across concurrent runs on one machine. */
export function createRunDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const dir = path.join(runRootDir(), `${stamp}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Jaeger, Prometheus, Redis and Toxiproxy as native processes on 127.0.0.1. */
export class NativeBackend implements Backend {
  readonly name = "native";

  async start(options: BackendStartOptions = {}): Promise<StartedStack> {
    const resolved = options.tools ?? (await Promise.all(BACKEND_TOOL_NAMES.map(resolveTool)));
    const tools = resolved.filter((t) => (BACKEND_TOOL_NAMES as readonly string[]).includes(t.name));
    const bin = Object.fromEntries(tools.map((t) => [t.name, t.path])) as Record<BackendToolName, string>;
    const versions = Object.fromEntries(tools.map((t) => [t.name, t.version])) as Record<BackendToolName, string>;
    const ports = options.ports ?? {};
    const runDir = createRunDir();

    const starts = await Promise.allSettled([
      startJaeger(bin.jaeger, runDir, {
        maxTraces: options.jaegerMaxTraces,
        fixedPorts: {
          otlpGrpc: ports["jaeger-otlp-grpc"],
          otlpHttp: ports["jaeger-otlp-http"],
          query: ports["jaeger-query"],
        },
      }),
      startPrometheus(bin.prometheus, runDir, ports.prometheus),
      startRedis(bin.redis, runDir, ports.redis),
      startToxiproxy(bin.toxiproxy, runDir, ports.toxiproxy),
    ]);
    const started = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value.component] : []));
    const failure = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) {
      await Promise.all(started.map((c) => c.process.stop()));
      throw failure.reason;
    }
    const [jaeger, prometheus, redis, toxiproxy] = starts.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [
      StartedJaeger,
      StartedPrometheus,
      StartedRedis,
      StartedToxiproxy,
    ];
    return new NativeStack(
      runDir,
      versions,
      jaeger,
      prometheus,
      redis,
      toxiproxy,
      options.keepRunDir ?? env("MESHPROOF_KEEP_RUN_DIR") === "true",
    );
  }
}

class NativeStack implements StartedStack {
  readonly backend = "native";
  private stopping: Promise<void> | undefined;
  private readonly components: StartedComponent<string>[];

  constructor(
    readonly runDir: string,
    readonly tools: Record<BackendToolName, string>,
    readonly jaeger: StartedJaeger,
    readonly prometheus: StartedPrometheus,
    readonly redis: StartedRedis,
    readonly toxiproxy: StartedToxiproxy,
    private readonly keepRunDir: boolean,
  ) {
    this.components = [jaeger.component, prometheus.component, redis.component, toxiproxy.component];
  }

  get traces() {
    return this.jaeger.traces;
  }

  pids(): number[] {
    return this.components.map((c) => c.process.pid);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.components.map((c) => c.process.stop()));
      if (!this.keepRunDir) fs.rmSync(this.runDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
