import { parseCliArgs, runCli } from "./cli/run-cli";
import { provisionTools } from "./tools/provision";
import { TOOL_NAMES, toolStatus, type ToolStatus } from "./tools/tools";

const USAGE = `usage: npm run setup [-- --check]
  (no flag)  install every missing tool (apt packages, Go builds into the tool cache); idempotent
  --check    print one line per tool (name, version, path, found/missing); exit 0 only if all are found
Tools: jaeger, prometheus, redis, toxiproxy, and payments-go (the Go payments service, built from services/payments-go)`;

function line(status: ToolStatus): string {
  const origin = status.overridden ? " (override)" : "";
  return `${status.name.padEnd(11)} ${status.version.padEnd(12)} ${status.path}${origin}  ${status.found ? "found" : "missing"}`;
}

runCli(async () => {
  const { values } = parseCliArgs({ check: { type: "boolean" }, help: { type: "boolean", short: "h" } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const statuses = values.check
    ? await Promise.all(TOOL_NAMES.map(toolStatus))
    : await provisionTools({ tools: TOOL_NAMES });
  for (const status of statuses) process.stdout.write(`${line(status)}\n`);
  return statuses.every((s) => s.found) ? 0 : 2;
});
