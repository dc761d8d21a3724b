import { RUN_LABEL } from "../../harness/backends";
import { dockerBackendImages } from "../../harness/backends/docker-backend";
import { DOCKER_SETUP_COMMAND, engineRequest, engineState } from "../../harness/docker/engine";

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

/** Whether the engine still has a container with this id (running or not). */
export async function containerExists(id: string): Promise<boolean> {
  const response = await engineRequest("GET", `/containers/${id}/json`);
  if (response.status === 404) return false;
  if (response.status === 200) return true;
  throw new Error(`inspect container ${id}: engine answered ${response.status} ${response.body}`);
}

/** Ids of every container (running or not) whose meshproof.run label satisfies match. */
export async function runContainers(match: (runId: string) => boolean): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [RUN_LABEL] }));
  const response = await engineRequest("GET", `/containers/json?all=1&filters=${filters}`);
  const containers = JSON.parse(response.body) as { Id: string; Labels: Record<string, string> }[];
  return containers.filter((c) => match(c.Labels[RUN_LABEL] ?? "")).map((c) => c.Id);
}
