import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env, runRootDir } from "../config/env";
import { resolveTool, type BackendToolName } from "../tools/tools";
import type { ComponentRunner, StartedComponent } from "./component";
import { processRunner } from "./process-runner";
import { startJaeger, type StartedJaeger } from "./jaeger";
import { startPrometheus, type StartedPrometheus } from "./prometheus";
import { startRedis, type StartedRedis } from "./redis";
import type { BackendStartOptions, StartedStack } from "./stack";
import { startToxiproxy, type StartedToxiproxy } from "./toxiproxy";
import { startZipkin, type StartedZipkin } from "./zipkin";

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
 * Starts the four tools at once through their runners (and Zipkin, as a native process, when it is the trace store)
 * and assembles the StartedStack. A start that fails half-way stops what already started and rethrows the first
 * failure.
 */
export async function startComponentStack(parts: StackParts, options: BackendStartOptions): Promise<StartedStack> {
  const { runDir, runners } = parts;
  const ports = options.ports ?? {};
  const zipkinTool =
    options.traceStore === "zipkin"
      ? (options.tools?.find((t) => t.name === "zipkin" && t.found) ?? (await resolveTool("zipkin")))
      : undefined;
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
    ...(zipkinTool ? [startZipkin(processRunner(zipkinTool.path), runDir, ports.zipkin)] : []),
  ]);
  const started = starts.flatMap((s) => (s.status === "fulfilled" ? [s.value.component] : []));
  const failure = starts.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) {
    await Promise.all(started.map((c) => c.handle.stop()));
    throw failure.reason;
  }
  const [jaeger, prometheus, redis, toxiproxy, zipkin] = starts.map(
    (s) => (s as PromiseFulfilledResult<unknown>).value,
  ) as [StartedJaeger, StartedPrometheus, StartedRedis, StartedToxiproxy, StartedZipkin | undefined];
  const tools = zipkinTool ? { ...parts.tools, zipkin: zipkinTool.version } : parts.tools;
  return new ComponentStack(
    { ...parts, tools },
    { jaeger, prometheus, redis, toxiproxy, zipkin },
    options.keepRunDir ?? env("MESHPROOF_KEEP_RUN_DIR") === "true",
  );
}

interface StackComponents {
  jaeger: StartedJaeger;
  prometheus: StartedPrometheus;
  redis: StartedRedis;
  toxiproxy: StartedToxiproxy;
  zipkin?: StartedZipkin;
}

class ComponentStack implements StartedStack {
  readonly backend: string;
  readonly runDir: string;
  readonly tools: StartedStack["tools"];
  readonly jaeger: StartedJaeger;
  readonly prometheus: StartedPrometheus;
  readonly redis: StartedRedis;
  readonly toxiproxy: StartedToxiproxy;
  readonly zipkin?: StartedZipkin;
  private stopping: Promise<void> | undefined;
  private readonly components: StartedComponent<string>[];

  constructor(
    parts: Omit<StackParts, "tools"> & { tools: StartedStack["tools"] },
    started: StackComponents,
    private readonly keepRunDir: boolean,
  ) {
    this.backend = parts.backend;
    this.runDir = parts.runDir;
    this.tools = parts.tools;
    ({ jaeger: this.jaeger, prometheus: this.prometheus, redis: this.redis, toxiproxy: this.toxiproxy } = started);
    this.zipkin = started.zipkin;
    this.components = Object.values(started).flatMap((c: { component: StartedComponent<string> } | undefined) =>
      c ? [c.component] : [],
    );
  }

  get traceStore() {
    return this.zipkin ? ("zipkin" as const) : ("jaeger" as const);
  }

  get traces() {
    return this.zipkin?.traces ?? this.jaeger.traces;
  }

  get traceExportEnv(): Record<string, string> {
    return this.zipkin ? { OTEL_TRACES_EXPORTER: "zipkin", OTEL_EXPORTER_ZIPKIN_ENDPOINT: this.zipkin.spansUrl } : {};
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
