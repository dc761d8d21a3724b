import { BACKEND_TOOL_NAMES, resolveTool, type BackendToolName } from "../tools/tools";
import { createRunDir, startComponentStack } from "./component-stack";
import { processRunner } from "./process-runner";
import type { Backend, BackendStartOptions, StartedStack } from "./stack";

/** Jaeger, Prometheus, Redis and Toxiproxy as native processes on 127.0.0.1. */
export class NativeBackend implements Backend {
  readonly name = "native";

  async start(options: BackendStartOptions = {}): Promise<StartedStack> {
    const resolved = options.tools ?? (await Promise.all(BACKEND_TOOL_NAMES.map(resolveTool)));
    const tools = resolved.filter((t) => (BACKEND_TOOL_NAMES as readonly string[]).includes(t.name));
    const bin = Object.fromEntries(tools.map((t) => [t.name, t.path])) as Record<BackendToolName, string>;
    const versions = Object.fromEntries(tools.map((t) => [t.name, t.version])) as Record<BackendToolName, string>;
    const runners = {
      jaeger: processRunner(bin.jaeger),
      prometheus: processRunner(bin.prometheus),
      redis: processRunner(bin.redis),
      toxiproxy: processRunner(bin.toxiproxy),
    };
    return startComponentStack({ backend: this.name, runDir: createRunDir(), tools: versions, runners }, options);
  }
}
