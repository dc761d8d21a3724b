import { loadMeshConfig } from "../config/mesh-config";
import { ConfigError } from "../errors";
import { meshPlan } from "../mesh/link-plan";
import { parseCliArgs, runCli } from "./run-cli";

const USAGE = `usage: npm run mesh:plan -- --config FILE
  prints, for a mesh you start yourself, the address each caller must use for each declared link: meshproof puts a
  proxy there (Toxiproxy) that forwards to the link's address, so it can cut, slow and reset the link from outside.`;

runCli(async () => {
  const { values } = parseCliArgs({ config: { type: "string" }, help: { type: "boolean", short: "h" } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.config) throw new ConfigError(`--config FILE is required\n${USAGE}`);
  process.stdout.write(meshPlan(loadMeshConfig(values.config)));
  return 0;
});
