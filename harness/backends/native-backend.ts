import { resolveTool, TOOL_NAMES, type ToolName } from "../tools/tools";
import { createRunDir, startComponentStack } from "./component-stack";
import { processRunner } from "./process-runner";
import type { Backend, BackendStartOptions, StartedStack } from "./stack";

/** Jaeger, Prometheus, Redis and Toxiproxy as native processes on 127.0.0.1. */
export class NativeBackend implements Backend {
  readonly name = "native";

  async start(options: BackendStartOptions = {}): Promise<StartedStack> {
    const tools = options.tools ?? (await Promise.all(TOOL_NAMES.map(resolveTool)));
    const bin = Object.fromEntries(tools.map((t) => [t.name, t.path])) as Record<ToolName, string>;
    const versions = Object.fromEntries(tools.map((t) => [t.name, t.version])) as Record<ToolName, string>;
    const runners = {
      jaeger: processRunner(bin.jaeger),
      prometheus: processRunner(bin.prometheus),
      redis: processRunner(bin.redis),
      toxiproxy: processRunner(bin.toxiproxy),
    };
    return startComponentStack({ backend: this.name, runDir: createRunDir(), tools: versions, runners }, options);
  }
}
