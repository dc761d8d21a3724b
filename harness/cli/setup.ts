import { parseCliArgs, runCli } from "./run-cli";
import { checkDocker, setupDocker, type DockerCheckLine } from "../docker/setup";
import { ConfigError } from "../errors";
import { provisionTools } from "../tools/provision";
import {
  DEFAULT_TOOL_NAMES,
  OPTIONAL_TOOL_NAMES,
  setupCommand,
  TOOL_NAMES,
  toolStatus,
  type ToolStatus,
} from "../tools/tools";

const EXTRAS = ["docker", ...OPTIONAL_TOOL_NAMES] as const;

const USAGE = `usage: npm run setup [-- --check] [-- --with docker] [-- --with k6]
  (no flag)      install every missing tool (apt packages, Go builds into the tool cache); idempotent
  --check        print one line per tool (name, version, path, found/missing); exit 0 only if all are found
                 (k6 only with --with k6)
  --with docker  also: install docker.io, docker-compose and debootstrap (apt), start dockerd
                 (--bridge=none --iptables=false) when no engine answers, and build the meshproof/* images whose
                 inputs changed (with --check: report them)
  --with k6      also: k6 (AGPL-3.0, run as a separate program: --driver k6 and the k6 tests); nothing else needs it
Tools: jaeger, prometheus, redis, toxiproxy, payments-go (the Go payments service, built from services/payments-go),
       chromium (Debian's, for the report.html browser test), hotrod (Jaeger's HotROD example, examples/hotrod),
       xmllint; k6 with --with k6`;

function line(status: ToolStatus): string {
  const origin = status.overridden ? " (override)" : "";
  return `${status.name.padEnd(11)} ${status.version.padEnd(12)} ${status.path}${origin}  ${status.found ? "found" : "missing"}`;
}

function dockerLine(check: DockerCheckLine): string {
  return `${check.name.padEnd(18)} ${check.detail}  ${check.state}`;
}

runCli(async () => {
  const { values } = parseCliArgs(
    {
      check: { type: "boolean" },
      with: { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const unknown = values.with.find((w) => !(EXTRAS as readonly string[]).includes(w));
  if (unknown !== undefined) throw new ConfigError(`--with ${unknown}: valid values: ${EXTRAS.join(", ")}\n${USAGE}`);
  const withDocker = values.with.includes("docker");
  const log = (text: string) => process.stderr.write(`${text}\n`);

  const started = performance.now();
  const wanted = TOOL_NAMES.filter((name) => DEFAULT_TOOL_NAMES.includes(name) || values.with.includes(name));
  if (!values.check) await provisionTools({ tools: wanted, log });
  const statuses = await Promise.all(TOOL_NAMES.map(toolStatus));
  for (const status of statuses) {
    const optional = !status.found && !wanted.includes(status.name) ? `, optional (${setupCommand(status.name)})` : "";
    process.stdout.write(`${line(status)}${optional}\n`);
  }
  if (!values.check) log(`tools: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  let ok = statuses.every((s) => s.found || !wanted.includes(s.name));
  if (withDocker) {
    const checks = values.check ? await checkDocker() : await setupDocker(log);
    for (const check of checks) process.stdout.write(`${dockerLine(check)}\n`);
    ok &&= checks.every((c) => c.ok);
  }
  return ok ? 0 : 2;
});
