import { RUN_LABEL } from "../../harness/backends";
import { dockerBackendImages } from "../../harness/backends/docker-backend";
import { DOCKER_SETUP_COMMAND, engineRequest, engineState } from "../../harness/docker/engine";
import type { Impl } from "../../harness/mesh/mesh";
import { meshImages } from "../../harness/mesh/mesh-runtime";

/**
 * Throws (failing the test, never skipping it) unless a Docker engine answers and the backend images are built
 * from the current inputs; the message names the command that fixes it.
 */
export async function requireDocker(): Promise<void> {
  const engine = await engineState();
  if (!engine.answers) {
    throw new Error(`the docker backend tests need a Docker engine (${engine.reason}); run "${DOCKER_SETUP_COMMAND}"`);
  }
  const images = await dockerBackendImages();
  if (images.problem) {
    throw new Error(
      `the docker backend tests need the meshproof images (${images.problem}); run "${DOCKER_SETUP_COMMAND}"`,
    );
  }
}

/**
 * requireDocker, and the mesh images of these implementations (node-service and payments-go are rebuilt when only
 * their own inputs changed, as `npm run scenario` does; a missing base or node-runtime fails naming the setup).
 */
export async function requireDockerMesh(impls: readonly Impl[] = ["node"]): Promise<void> {
  await requireDocker();
  const found = await meshImages(impls, { log: (line) => process.stderr.write(`${line}\n`) });
  if ("problem" in found)
    throw new Error(`the docker mesh tests need the mesh images (${found.problem}); run "${DOCKER_SETUP_COMMAND}"`);
}

/** Whether the engine still has a container with this id (running or not). */
export async function containerExists(id: string): Promise<boolean> {
  const response = await engineRequest("GET", `/containers/${id}/json`);
  if (response.status === 404) return false;
  if (response.status === 200) return true;
  throw new Error(`inspect container ${id}: engine answered ${response.status} ${response.body}`);
}

/** Ids of every container (running or not) whose meshproof.run label satisfies match (and carrying `label`, if given). */
export async function runContainers(match: (runId: string) => boolean, label?: string): Promise<string[]> {
  return (await labelledContainers([RUN_LABEL, ...(label ? [label] : [])]))
    .filter((c) => match(c.labels[RUN_LABEL] ?? ""))
    .map((c) => c.id);
}

/** What connecting to the engine's socket fails with where no engine runs. */
const NO_ENGINE = ["ENOENT", "ECONNREFUSED"];

/**
 * Every container (running or not) carrying all these labels ("key" or "key=value"); none where no engine answers
 * (a native run's orphan checks hold without one).
 */
export async function labelledContainers(
  labels: string[],
): Promise<{ id: string; state: string; labels: Record<string, string> }[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: labels }));
  let response: Awaited<ReturnType<typeof engineRequest>>;
  try {
    response = await engineRequest("GET", `/containers/json?all=1&filters=${filters}`);
  } catch (error) {
    if (NO_ENGINE.includes((error as NodeJS.ErrnoException).code ?? "")) return [];
    throw error;
  }
  const containers = JSON.parse(response.body) as { Id: string; State: string; Labels: Record<string, string> }[];
  return containers.map((c) => ({ id: c.Id, state: c.State, labels: c.Labels }));
}
