import path from "node:path";
import type { StartedStack } from "../backends/stack";
import { DOCKER_SETUP_COMMAND, engineMissingError, engineState } from "../docker/engine";
import { ImageBuilder, inspectImage, MESH_IMAGES, type ImageName } from "../docker/images";
import { ConfigError, ToolMissingError } from "../errors";
import type { ToolStatus } from "../tools/tools";
import { ContainerLauncher, type MeshImages } from "./container-launcher";
import type { ServiceLauncher } from "./launcher";
import { processLauncher } from "./process-launcher";
import type { Impl } from "./sample-mesh";

/** Where `npm run scenario` runs the sample mesh (`--mesh-runtime`); by default where the backend runs. */
export const MESH_RUNTIMES = ["native", "docker"] as const;
export type MeshRuntime = (typeof MESH_RUNTIMES)[number];

/** The images a docker mesh of these implementations runs from, by id, or why they cannot be had. */
export type MeshImagesResult = { images: MeshImages; built: string[] } | { problem: string };

/**
 * The mesh images for the implementations in use. The ones a code change makes stale (node-service follows dist/,
 * payments-go its binary) are rebuilt here, like `npm run scenario` provisions a missing tool (about a second each);
 * the base and node-runtime (debootstrap, npm ci: a minute) are `npm run setup -- --with docker`'s, and a missing or
 * stale one is a problem naming it. Containers are created from the image ids checked here, so a concurrent rebuild
 * of a tag cannot swap the code under a run.
 */
export async function meshImages(
  impls: readonly Impl[],
  options: { tools?: readonly ToolStatus[]; log: (line: string) => void },
): Promise<MeshImagesResult> {
  const wanted = [...new Set(impls)].map((impl) => MESH_IMAGES[impl]);
  const builder = new ImageBuilder({ tools: options.tools });
  const states = await builder.states(["base", "node-runtime", ...wanted]);
  const unplannable = states.find((s) => s.problem);
  if (unplannable) return { problem: unplannable.problem! };
  const foundation = states.filter((s) => (s.name === "base" || s.name === "node-runtime") && !s.current);
  if (foundation.length > 0)
    return {
      problem: foundation
        .map((s) => `image ${s.tag} ${s.present ? "built from older inputs" : "not built"}`)
        .join(", "),
    };
  const stale = states.filter((s) => !s.current).map((s) => s.name as ImageName);
  const built: string[] = [];
  if (stale.length > 0) {
    const output: string[] = [];
    try {
      for (const result of await builder.ensure(stale, (line) => output.push(line)))
        if (result.action === "built") {
          built.push(result.tag);
          options.log(`mesh image ${result.tag} rebuilt (its inputs changed) in ${(result.ms / 1000).toFixed(1)} s`);
        }
    } catch (error) {
      for (const line of output.slice(-30)) options.log(line);
      throw error;
    }
  }
  const images: MeshImages = {};
  for (const impl of new Set(impls)) {
    const found = await inspectImage(builder.tag(MESH_IMAGES[impl]));
    if (!found.present) return { problem: `image ${builder.tag(MESH_IMAGES[impl])} vanished after its check` };
    images[impl] = found.id;
  }
  return { images, built };
}

export interface MeshLauncherChoice {
  runtime: MeshRuntime;
  launcher: ServiceLauncher;
  /** One line for the user: which runtime and why. */
  reason: string;
}

/**
 * Resolves `--mesh-runtime`: "native" or "docker" as asked, or (undefined) the backend's: a docker backend gets a
 * docker mesh. When the backend was chosen by `auto` and the mesh images cannot be had, the mesh falls back to native
 * processes and the reason says why; asked for explicitly (or by an explicit `--backend docker`), that is an error
 * naming the setup command.
 */
export async function chooseMeshLauncher(
  requested: string | undefined,
  stack: StartedStack,
  options: {
    /** The --backend the user gave ("auto" when the backend was chosen for them). */
    backendRequested: string;
    impls: readonly Impl[];
    tools?: readonly ToolStatus[];
    log: (line: string) => void;
  },
): Promise<MeshLauncherChoice> {
  if (requested !== undefined && !(MESH_RUNTIMES as readonly string[]).includes(requested))
    throw new ConfigError(`unknown mesh runtime "${requested}"; valid: ${MESH_RUNTIMES.join(", ")}`);
  const runtime = (requested ?? (stack.backend === "docker" ? "docker" : "native")) as MeshRuntime;
  const why = requested ? "as asked" : `follows the ${stack.backend} backend`;
  if (runtime === "native") return { runtime, launcher: processLauncher(), reason: why };

  const flag = requested ? "--mesh-runtime docker" : `the docker mesh (${why}; --mesh-runtime native avoids it)`;
  const engine = await engineState();
  if (!engine.answers) throw engineMissingError(engine, flag);
  const found = await meshImages(options.impls, options);
  if ("problem" in found) {
    if (!requested && options.backendRequested === "auto")
      return {
        runtime: "native",
        launcher: processLauncher(),
        reason: `the docker backend's mesh images cannot be used (${found.problem}; run "${DOCKER_SETUP_COMMAND}")`,
      };
    throw new ToolMissingError(`${flag}: ${found.problem}; run "${DOCKER_SETUP_COMMAND}"`);
  }
  return { runtime, launcher: new ContainerLauncher(path.basename(stack.runDir), found.images), reason: why };
}
