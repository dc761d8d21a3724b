import { parseCliArgs, runCli } from "./run-cli";
import { composeDown, composeProject, composeUp } from "../compose/compose";
import { ConfigError } from "../errors";

const USAGE = `usage: npm run compose:up | npm run compose:down   (node dist/harness/cli/compose.js up|down)
  up    brings the reference deployment up (compose/docker-compose.yml: Jaeger, Prometheus, Redis, Toxiproxy and the
        sample mesh, as containers of the local meshproof/* images, host network), waits until every healthcheck
        passes and Prometheus scrapes the services, and writes the meshproof config that describes it; judge it with
        npm run scenario -- --attach compose
  down  removes it: containers and volumes (there is no network), the config and the services' logs
environment: MESHPROOF_COMPOSE_PROJECT (default meshproof), MESHPROOF_ADMIN_TOKEN (default: a random one),
  the ports (MESHPROOF_GATEWAY_PORT, ...: see compose/README.md), MESHPROOF_RUN_ROOT (where the config and logs go)`;

runCli(async () => {
  const { values, positionals } = parseCliArgs({ help: { type: "boolean", short: "h" } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if ((command !== "up" && command !== "down") || rest.length > 0)
    throw new ConfigError(`expected "up" or "down" (got "${positionals.join(" ")}")\n${USAGE}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const project = composeProject();
  const started = performance.now();
  if (command === "down") {
    await composeDown({ project, log });
    log(`compose project ${project} removed in ${Math.round(performance.now() - started)} ms`);
    return 0;
  }
  const up = await composeUp({ project, log });
  const timings = Object.entries(up.timings)
    .map(([step, ms]) => `${step} ${Math.round(ms)} ms`)
    .join(", ");
  log(`compose project ${project} up in ${Math.round(performance.now() - started)} ms (${timings})`);
  log(`judge it: npm run scenario -- --attach compose`);
  process.stdout.write(`${JSON.stringify({ project, config: up.configFile, containers: up.containers })}\n`);
  return 0;
});
