import os from "node:os";
import path from "node:path";

/** Every environment variable meshproof reads, in one table: name, type, default, meaning. */
export const ENV = {
  MESHPROOF_TOOL_CACHE: {
    type: "path",
    default: "$XDG_CACHE_HOME/meshproof/tools (or ~/.cache/meshproof/tools)",
    meaning: "Where built tools (Jaeger, Toxiproxy, payments-go) are kept between runs; outside the clone.",
  },
  MESHPROOF_RUN_ROOT: {
    type: "path",
    default: "$TMPDIR/meshproof-runs",
    meaning: "Parent of the per-run directories (configs, data, one log file per process).",
  },
  MESHPROOF_CAPACITY: {
    type: "number",
    default: "(measured once per machine and mesh: npm run capacity)",
    meaning: "The mesh's capacity in requests/s the load scenarios take fractions of, instead of the measured one.",
  },
  MESHPROOF_JAEGER_BIN: { type: "path", default: "(provisioned)", meaning: "Use this jaeger binary instead." },
  MESHPROOF_PROMETHEUS_BIN: { type: "path", default: "(provisioned)", meaning: "Use this prometheus binary instead." },
  MESHPROOF_REDIS_BIN: { type: "path", default: "(provisioned)", meaning: "Use this redis-server binary instead." },
  MESHPROOF_TOXIPROXY_BIN: {
    type: "path",
    default: "(provisioned)",
    meaning: "Use this toxiproxy-server binary instead.",
  },
  MESHPROOF_PAYMENTS_GO_BIN: {
    type: "path",
    default: "(built by npm run setup)",
    meaning:
      "Use this payments-go binary (the Go payments service) instead of the one built from services/payments-go.",
  },
  MESHPROOF_K6_BIN: { type: "path", default: "(provisioned)", meaning: "Use this k6 binary instead." },
  MESHPROOF_CHROMIUM_BIN: {
    type: "path",
    default: "/usr/bin/chromium (npm run setup)",
    meaning: "Use this Chromium for the report.html browser test instead of Debian's.",
  },
  MESHPROOF_HOTROD_BIN: {
    type: "path",
    default: "(built by npm run setup)",
    meaning: "Use this build of Jaeger's HotROD example (the third-party mesh the tests judge) instead.",
  },
  MESHPROOF_XMLLINT_BIN: {
    type: "path",
    default: "/usr/bin/xmllint (npm run setup)",
    meaning: "Use this xmllint for the junit.xml schema test instead of Debian's.",
  },
  MESHPROOF_DEFECTS: {
    type: "comma-separated list",
    default: "(none)",
    meaning: "Mesh defects to switch on (negative controls); the default of `npm run scenario -- --defects`.",
  },
  DOCKER_HOST: {
    type: "unix:// address",
    default: "unix:///var/run/docker.sock",
    meaning:
      "The Docker engine of the docker backend and of `npm run setup -- --with docker` (unix sockets only; " +
      "the harness itself sets TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1).",
  },
  MESHPROOF_COMPOSE_PROJECT: {
    type: "name",
    default: "meshproof",
    meaning:
      "The compose project of `npm run compose:up`/`compose:down` and of `npm run scenario -- --attach compose` " +
      "(its config is $MESHPROOF_RUN_ROOT/compose-<project>/meshproof.config.json).",
  },
  MESHPROOF_ADMIN_TOKEN: {
    type: "string (>= 16 characters)",
    default: "(random, kept in the compose config)",
    meaning: "The admin API token `npm run compose:up` gives the mesh's services.",
  },
  MESHPROOF_KEEP_RUN_DIR: {
    type: "boolean",
    default: "false",
    meaning: "Keep the per-run directory after a successful stop (it is always kept after a failure).",
  },
} as const;

export type EnvName = keyof typeof ENV;

export function env(name: EnvName): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function toolCacheDir(): string {
  const explicit = env("MESHPROOF_TOOL_CACHE");
  if (explicit) return path.resolve(explicit);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "meshproof", "tools");
}

export function runRootDir(): string {
  return path.resolve(env("MESHPROOF_RUN_ROOT") ?? path.join(os.tmpdir(), "meshproof-runs"));
}
