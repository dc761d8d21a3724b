import { sampleMeshConfig } from "../mesh/sample-config";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { IDockerComposeOptions } from "docker-compose";
import { dockerBackendImages } from "../backends/docker-backend";
import { COMPOSE_DIR } from "../backends/component";
import { PrometheusClient } from "../backends/prometheus";
import { env, runRootDir } from "../config/env";
import type { MeshConfig } from "../config/mesh-config";
import {
  DOCKER_SETUP_COMMAND,
  dockerSocketPath,
  engineMissingError,
  engineRequest,
  engineState,
} from "../docker/engine";
import { imageTag } from "../docker/images";
import { ConfigError, ReadinessTimeoutError, ToolMissingError } from "../errors";
import { MESH_LINKS, MESH_SERVICES, SAMPLE_MESH } from "../mesh/mesh";
import { meshImages } from "../mesh/mesh-runtime";
import { retryUntil } from "../util/retry";

/** The reference deployment (compose/docker-compose.yml). */
export const COMPOSE_FILE = path.join(COMPOSE_DIR, "docker-compose.yml");
/** Compose's own label on every container, volume and network of a project. */
export const PROJECT_LABEL = "com.docker.compose.project";
/** The Prometheus job compose/prometheus.compose.yml scrapes the mesh under. */
const SCRAPE_JOB = "mesh";
/** Services that run once and exit (mesh-init); every other one has a healthcheck. */
const ONE_SHOT = new Set(["mesh-init"]);

/** The compose project: MESHPROOF_COMPOSE_PROJECT, default "meshproof". */
export function composeProject(): string {
  const project = env("MESHPROOF_COMPOSE_PROJECT") ?? "meshproof";
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project))
    throw new ConfigError(`MESHPROOF_COMPOSE_PROJECT must be lower-case letters, digits, - and _ (got "${project}")`);
  return project;
}

/** What compose:up keeps for a project: the services' log files and the meshproof config describing it. */
export function composeStateDir(project = composeProject()): string {
  return path.join(runRootDir(), `compose-${project}`);
}

/** Where compose:up writes the meshproof config (MeshConfig JSON) that `--attach compose` reads. */
export function composeConfigPath(project = composeProject()): string {
  return path.join(composeStateDir(project), "meshproof.config.json");
}

export interface ComposeUpResult {
  project: string;
  configFile: string;
  config: MeshConfig;
  /** Container id of every service. */
  containers: Record<string, string>;
  /** Milliseconds of each step: checks, up, healthy, scraped. */
  timings: Record<string, number>;
}

/**
 * Brings the reference deployment up as project `project`: checks the engine and the images (no registry is
 * reachable, and compose 1.29 would try one for a missing image), runs `docker-compose up -d`, waits until every
 * healthcheck passes (mesh-init exited 0) and Prometheus scrapes the four services, then writes the meshproof config.
 */
export async function composeUp(options: { project?: string; log: (line: string) => void }): Promise<ComposeUpResult> {
  const project = options.project ?? composeProject();
  const timings: Record<string, number> = {};
  let t = performance.now();
  const engine = await engineState();
  if (!engine.answers) throw engineMissingError(engine, "npm run compose:up");
  const backend = await dockerBackendImages();
  if (backend.problem)
    throw new ToolMissingError(`npm run compose:up: ${backend.problem}; run "${DOCKER_SETUP_COMMAND}"`);
  const mesh = await meshImages(["node"], { log: options.log });
  if ("problem" in mesh)
    throw new ToolMissingError(`npm run compose:up: ${mesh.problem}; run "${DOCKER_SETUP_COMMAND}"`);
  timings.checks = performance.now() - t;

  const stateDir = composeStateDir(project);
  const logDir = path.join(stateDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const token = adminToken(project);
  const environment = composeEnvironment({ MESHPROOF_ADMIN_TOKEN: token, MESHPROOF_COMPOSE_LOG_DIR: logDir });
  const compose = await import("docker-compose");
  const composeOptions = clientOptions(project, environment, options.log);

  t = performance.now();
  // Quietly: the resolved file is read, not shown.
  const resolved = (await run(() => compose.config({ ...composeOptions, callback: undefined }), "config")).data
    .config as unknown as ResolvedCompose;
  checkImages(resolved);
  await run(() => compose.upAll({ ...composeOptions, commandOptions: ["--remove-orphans"] }), "up -d");
  timings.up = performance.now() - t;

  t = performance.now();
  const containers = await waitHealthy(project, Object.keys(resolved.services), options.log);
  timings.healthy = performance.now() - t;

  const config = meshConfigOf(resolved, project, token, logDir);
  t = performance.now();
  const prometheus = new PrometheusClient(config.prometheus!.url);
  await retryUntil(
    () => prometheus.query(`up{job="${SCRAPE_JOB}"}`),
    (samples) => samples.length === MESH_SERVICES.length && samples.every((s) => s.value === 1),
    {
      timeoutMs: 30_000,
      description: `Prometheus (${config.prometheus!.url}) scraping the ${MESH_SERVICES.length} services (up{job="${SCRAPE_JOB}"} == 1)`,
      maxDelayMs: 250,
    },
  );
  timings.scraped = performance.now() - t;

  const configFile = composeConfigPath(project);
  fs.writeFileSync(`${configFile}.tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${configFile}.tmp`, configFile);
  return { project, configFile, config, containers, timings };
}

/**
 * Removes the project: `docker-compose down -v --remove-orphans` (containers and volumes; there is no network), then
 * compose:up's state (the config and the services' logs). A project that is not up is not an error.
 */
export async function composeDown(options: { project?: string; log: (line: string) => void }): Promise<void> {
  const project = options.project ?? composeProject();
  const engine = await engineState();
  if (!engine.answers) throw engineMissingError(engine, "npm run compose:down");
  const compose = await import("docker-compose");
  // Compose interpolates the whole file even to take it down: the token only has to be there.
  const environment = composeEnvironment({
    MESHPROOF_ADMIN_TOKEN: env("MESHPROOF_ADMIN_TOKEN") ?? "x".repeat(16),
    MESHPROOF_COMPOSE_LOG_DIR: path.join(composeStateDir(project), "logs"),
  });
  await run(
    () =>
      compose.downAll({
        ...clientOptions(project, environment, options.log),
        commandOptions: ["-v", "--remove-orphans"],
      }),
    "down -v",
  );
  fs.rmSync(composeStateDir(project), { recursive: true, force: true });
}

/** Ids of every container of a compose project, running or not (by compose's project label). */
export async function projectContainers(project: string): Promise<{ id: string; service: string; state: string }[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }));
  const response = await engineRequest("GET", `/containers/json?all=1&filters=${filters}`, { timeoutMs: 10_000 });
  if (response.status !== 200) throw new Error(`docker ps: the engine answered ${response.status} ${response.body}`);
  return (JSON.parse(response.body) as { Id: string; State: string; Labels: Record<string, string> }[]).map((c) => ({
    id: c.Id,
    service: c.Labels["com.docker.compose.service"] ?? "",
    state: c.State,
  }));
}

/** Names of every volume of a compose project. */
export async function projectVolumes(project: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }));
  const response = await engineRequest("GET", `/volumes?filters=${filters}`, { timeoutMs: 10_000 });
  return ((JSON.parse(response.body) as { Volumes: { Name: string }[] | null }).Volumes ?? []).map((v) => v.Name);
}

/** The config compose:up resolved, as far as it is read here. */
interface ResolvedCompose {
  services: Record<string, { image: string; command?: string[]; environment?: Record<string, string | null> }>;
}

/**
 * The environment of every docker-compose call: this process's (the user's port variables win), the images as
 * harness/docker/images.ts names them, and the uid:gid the services write their logs as.
 */
function composeEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    MESHPROOF_JAEGER_IMAGE: imageTag("jaeger"),
    MESHPROOF_PROMETHEUS_IMAGE: imageTag("prometheus"),
    MESHPROOF_REDIS_IMAGE: imageTag("redis"),
    MESHPROOF_TOXIPROXY_IMAGE: imageTag("toxiproxy"),
    MESHPROOF_NODE_SERVICE_IMAGE: imageTag("node-service"),
    MESHPROOF_UID: String(process.getuid?.() ?? 0),
    MESHPROOF_GID: String(process.getgid?.() ?? 0),
    ...process.env,
    ...extra,
  };
}

/** Debian's docker-compose 1.29 (the standalone executable), on compose/docker-compose.yml, as this project. */
function clientOptions(project: string, environment: NodeJS.ProcessEnv, log: (line: string) => void) {
  return {
    cwd: COMPOSE_DIR,
    config: COMPOSE_FILE,
    executable: { standalone: true },
    composeOptions: [
      ["--project-name", project],
      ["--ansi", "never"],
    ],
    env: environment,
    callback: (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) log(`  ${line.trimEnd()}`);
    },
  } satisfies IDockerComposeOptions;
}

/** Runs a docker-compose command; a non-zero exit (or a missing executable) is an error naming the fix. */
async function run<T>(command: () => Promise<T>, what: string): Promise<T> {
  try {
    return await command();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new ToolMissingError(`docker-compose is not installed; run "${DOCKER_SETUP_COMMAND}"`);
    const result = error as { exitCode?: number; err?: string };
    throw new Error(
      `docker-compose ${what} failed (exit ${result.exitCode ?? "?"}): ${(result.err ?? String(error)).trim().split("\n").slice(-10).join("\n")}`,
    );
  }
}

/** The file's images must be the ones meshproof builds (a user's override to a pullable image would try a registry). */
function checkImages(resolved: ResolvedCompose): void {
  const built = new Set(
    (["jaeger", "prometheus", "redis", "toxiproxy", "node-service", "payments-go"] as const).map((n) => imageTag(n)),
  );
  const foreign = Object.entries(resolved.services).filter(([, s]) => !built.has(s.image));
  if (foreign.length)
    throw new ConfigError(
      `${COMPOSE_FILE}: ${foreign.map(([n, s]) => `${n} uses ${s.image}`).join(", ")}, not an image meshproof builds (no registry is reachable); valid: ${[...built].join(", ")}`,
    );
}

/** The admin token: MESHPROOF_ADMIN_TOKEN, or the one a running deployment of this project was given, or a new one. */
function adminToken(project: string): string {
  const given = env("MESHPROOF_ADMIN_TOKEN");
  if (given) {
    if (given.length < 16) throw new ConfigError(`MESHPROOF_ADMIN_TOKEN must be 16 characters or more`);
    return given;
  }
  try {
    const previous = JSON.parse(fs.readFileSync(composeConfigPath(project), "utf8")) as MeshConfig;
    const token = Object.values(previous.services).find((s) => s.admin)?.admin?.token;
    if (token) return token;
  } catch {
    // None yet.
  }
  return randomBytes(24).toString("hex");
}

/** Until every service with a healthcheck is healthy and every one-shot exited 0; fails at once on one that cannot. */
async function waitHealthy(
  project: string,
  services: string[],
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const inspect = async () => {
    const states: Record<string, { id: string; health: string }> = {};
    for (const c of await projectContainers(project)) {
      const response = await engineRequest("GET", `/containers/${c.id}/json`, { timeoutMs: 5_000 });
      const state = (JSON.parse(response.body) as { State: InspectedState }).State;
      states[c.service] = { id: c.id, health: healthOf(c.service, state) };
    }
    return states;
  };
  let last: Record<string, { id: string; health: string }> = {};
  const pending = () => services.filter((s) => last[s]?.health !== "healthy");
  const waiting = retryUntil(
    async () => (last = await inspect()),
    () => pending().length === 0,
    {
      timeoutMs: 120_000,
      description: `every service of compose project ${project} healthy`,
      maxDelayMs: 250,
      failFast: () => {
        const broken = services.filter((s) => /^(unhealthy|exited)/.test(last[s]?.health ?? ""));
        return broken.length
          ? new ReadinessTimeoutError(
              `compose project ${project}: ${broken.map((s) => `${s} ${last[s]!.health}`).join(", ")}; ` +
                `see docker-compose -p ${project} logs ${broken.join(" ")} (run in compose/)`,
            )
          : undefined;
      },
      onTimeout: () => `still waiting for ${pending().map((s) => `${s} (${last[s]?.health ?? "no container"})`)}`,
    },
  );
  try {
    await waiting;
  } catch (error) {
    // The last lines of what did not come up, as the native mesh's start errors give them.
    const broken = pending().filter((s) => /^(unhealthy|exited)/.test(last[s]?.health ?? ""));
    const tails = await Promise.all(
      (broken.length ? broken : pending())
        .filter((s) => last[s])
        .map(async (s) => `--- ${s} ---\n${await containerLogTail(last[s]!.id, 15)}`),
    );
    if (error instanceof Error && tails.length) error.message += `\n${tails.join("\n")}`;
    throw error;
  }
  log(`compose project ${project}: ${services.length} services healthy`);
  return Object.fromEntries(Object.entries(last).map(([s, v]) => [s, v.id]));
}

/** The last lines a container wrote (stdout and stderr, the engine's multiplexed stream demultiplexed). */
async function containerLogTail(id: string, lines: number): Promise<string> {
  const response = await new Promise<Buffer>((resolve) => {
    const request = http.request(
      { socketPath: dockerSocketPath(), path: `/containers/${id}/logs?stdout=1&stderr=1&tail=${lines}` },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(Buffer.concat(chunks)));
        res.on("error", () => resolve(Buffer.alloc(0)));
      },
    );
    request.setTimeout(5_000, () => request.destroy());
    request.on("error", () => resolve(Buffer.alloc(0)));
    request.end();
  });
  const out: Buffer[] = [];
  for (let at = 0; at + 8 <= response.length;) {
    const size = response.readUInt32BE(at + 4);
    out.push(response.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(out).toString("utf8").trimEnd() || "(no output)";
}

interface InspectedState {
  Status: string;
  ExitCode: number;
  Health?: { Status: string };
}

/** "healthy" for a passing healthcheck or a one-shot that exited 0; otherwise what it is. */
function healthOf(service: string, state: InspectedState): string {
  if (ONE_SHOT.has(service))
    return state.Status === "exited"
      ? state.ExitCode === 0
        ? "healthy"
        : `exited with code ${state.ExitCode}`
      : state.Status;
  if (state.Status === "exited") return `exited with code ${state.ExitCode}`;
  return state.Health?.Status ?? "no healthcheck";
}

/** The meshproof config describing the deployment, from the file as compose resolved it (its ports, its links). */
function meshConfigOf(resolved: ResolvedCompose, project: string, token: string, logDir: string): MeshConfig {
  const envOf = (service: string) => {
    const found = resolved.services[service]?.environment;
    if (!found) throw new Error(`${COMPOSE_FILE}: no environment for ${service}`);
    return (name: string): string => {
      const value = found[name];
      if (value === undefined || value === null) throw new Error(`${COMPOSE_FILE}: ${service} has no ${name}`);
      return String(value);
    };
  };
  const argOf = (service: string, pattern: RegExp): string => {
    const command = resolved.services[service]?.command ?? [];
    for (let i = 0; i < command.length; i++) {
      const match = pattern.exec(command[i]!);
      if (match) return match[1] ?? command[i + 1]!;
    }
    throw new Error(`${COMPOSE_FILE}: ${service}'s command has no ${pattern.source}`);
  };
  const url = (port: string, route = "") => `http://127.0.0.1:${port}${route}`;
  // "name=listen>upstream" per link: each proxy is named after its link and forwards to its callee.
  const proxies = Object.fromEntries(
    envOf("mesh-init")("MESH_LINKS")
      .split(/\s+/)
      .filter(Boolean)
      .map((l) => {
        const [name, route] = l.split("=") as [string, string];
        return [name, { proxy: name, address: route.split(">")[1]! }];
      }),
  );
  const missing = MESH_LINKS.filter((l) => !(l in proxies));
  if (missing.length) throw new Error(`${COMPOSE_FILE}: mesh-init declares no link ${missing.join(", ")}`);
  return sampleMeshConfig({
    name: `compose project ${project} (compose/docker-compose.yml)`,
    services: Object.fromEntries(
      MESH_SERVICES.map((name) => {
        const get = envOf(name);
        const spec = SAMPLE_MESH[name];
        const ops = spec.protocol === "grpc" ? get("MESHPROOF_OPS_PORT") : get("MESHPROOF_PORT");
        return [
          name,
          {
            ...(spec.role === "edge" ? { url: url(get("MESHPROOF_PORT")) } : {}),
            metricsUrl: url(ops, "/metrics"),
            healthzUrl: url(ops, "/healthz"),
            readyzUrl: url(ops, "/readyz"),
            contract: "node",
            logFile: path.join(logDir, path.basename(get("MESHPROOF_LOG_FILE"))),
            admin: { url: url(get("MESHPROOF_ADMIN_PORT")), token },
          },
        ];
      }),
    ) as never,
    traces: { jaegerQueryUrl: url(envOf("jaeger")("QUERY_PORT")) },
    prometheus: { url: `http://${argOf("prometheus", /^--web\.listen-address=(.+)$/)}`, job: SCRAPE_JOB },
    toxiproxy: { url: envOf("mesh-init")("TOXIPROXY_URL"), proxies },
  });
}
