import { engineState } from "../docker/engine";
import type { ToolStatus } from "../tools/tools";
import { DockerBackend, dockerBackendImages } from "./docker-backend";
import { NativeBackend } from "./native-backend";
import type { Backend, BackendStartOptions, StartedStack } from "./stack";

/** Which backend `auto` chose and why (one line for the user). */
export interface BackendChoice {
  backend: Backend;
  reason: string;
}

/**
 * docker when an engine answers and the backend images are built from the current inputs, native otherwise.
 * start() prints one line saying which and why; the started stack's `backend` is the chosen one.
 */
export class AutoBackend implements Backend {
  readonly name = "auto";
  /** What start() chose and why, once it has. */
  reason?: string;

  constructor(private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  async choose(tools?: readonly ToolStatus[]): Promise<BackendChoice> {
    const engine = await engineState();
    if (!engine.answers) return { backend: new NativeBackend(), reason: `no Docker engine (${engine.reason})` };
    const images = await dockerBackendImages(tools);
    if (images.problem) return { backend: new NativeBackend(), reason: images.problem };
    return {
      backend: new DockerBackend(images),
      reason: `Docker engine ${engine.version} answers and ${Object.values(images.tags).join(", ")} are current`,
    };
  }

  async start(options: BackendStartOptions = {}): Promise<StartedStack> {
    const { backend, reason } = await this.choose(options.tools);
    this.reason = `auto chose ${backend.name}: ${reason}`;
    this.log(`backend auto: ${backend.name} (${reason})`);
    return backend.start(options);
  }
}
