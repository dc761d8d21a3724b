import fs from "node:fs";
import { ToolMissingError } from "../errors";
import { acquireSetupLock, aptInstallPackages } from "../tools/provision";
import { runCommand } from "./docker-cli";
import { DOCKER_SETUP_COMMAND, dockerSocketPath, engineState, ensureEngine, findOnPath } from "./engine";
import { IMAGE_NAMES, ImageBuilder } from "./images";

/** Debian packages the docker backend needs, by the program each provides. */
export const DOCKER_PACKAGES = [
  { pkg: "docker.io", program: "dockerd" },
  { pkg: "docker-compose", program: "docker-compose" },
  { pkg: "debootstrap", program: "debootstrap" },
] as const;

/** A line of `npm run setup -- --with docker [--check]`. */
export interface DockerCheckLine {
  name: string;
  detail: string;
  ok: boolean;
  state: string;
}

async function programPath(program: string): Promise<string | undefined> {
  const found = await findOnPath(program);
  if (found) return found;
  for (const dir of ["/usr/sbin", "/usr/bin"]) if (fs.existsSync(`${dir}/${program}`)) return `${dir}/${program}`;
  return undefined;
}

async function packageVersion(pkg: string): Promise<string | undefined> {
  const result = await runCommand("dpkg-query", ["-W", "-f", "${db:Status-Status} ${Version}", pkg]);
  const [status, version] = result.stdout.trim().split(" ");
  return result.code === 0 && status === "installed" ? version : undefined;
}

/**
 * Installs docker.io, docker-compose and debootstrap when missing, starts an engine when none answers
 * (`dockerd --bridge=none --iptables=false`, detached, never stopped by meshproof), and builds every image whose
 * inputs changed. Runs under the tool cache's setup lock. Prints (through log) the time of each step.
 */
export async function setupDocker(log: (line: string) => void): Promise<DockerCheckLine[]> {
  const missing: string[] = [];
  for (const { pkg, program } of DOCKER_PACKAGES) if (!(await programPath(program))) missing.push(pkg);
  if (missing.length > 0 && process.getuid?.() !== 0) {
    throw new ToolMissingError(
      `${missing.join(", ")} missing and installing them needs root; run: sudo apt-get update && ` +
        `sudo apt-get install -y --no-install-recommends ${missing.join(" ")}, then "${DOCKER_SETUP_COMMAND}"`,
    );
  }
  const release = await acquireSetupLock(log);
  try {
    if (missing.length > 0) {
      const started = performance.now();
      await aptInstallPackages(missing, log);
      log(`docker: apt-get install ${missing.join(" ")} took ${seconds(started)}`);
    }
    let started = performance.now();
    const engine = await ensureEngine(log);
    log(
      `docker: engine ${engine.version} (API ${engine.apiVersion}) answers on ${dockerSocketPath()} (${seconds(started)})`,
    );
    started = performance.now();
    const results = await new ImageBuilder().ensure(IMAGE_NAMES, log);
    for (const r of results) log(`docker: ${r.tag.padEnd(34)} ${r.action.padEnd(7)} ${(r.ms / 1000).toFixed(1)} s`);
    log(`docker: images ${seconds(started)}`);
  } finally {
    release();
  }
  return checkDocker();
}

/** One line per package, the engine and each image; ok only when everything is there and current. */
export async function checkDocker(): Promise<DockerCheckLine[]> {
  const lines: DockerCheckLine[] = [];
  for (const { pkg } of DOCKER_PACKAGES) {
    const version = await packageVersion(pkg);
    lines.push({ name: pkg, detail: version ?? "-", ok: version !== undefined, state: version ? "found" : "missing" });
  }
  const engine = await engineState();
  lines.push({
    name: "docker-engine",
    detail: engine.answers ? `${engine.version} ${dockerSocketPath()}` : engine.reason,
    ok: engine.answers,
    state: engine.answers ? "answers" : "missing",
  });
  if (!engine.answers) return lines;
  for (const state of await new ImageBuilder().states(IMAGE_NAMES)) {
    lines.push({
      name: `image ${state.name}`,
      detail: state.tag,
      ok: state.current,
      state: state.current ? "current" : state.present ? "stale" : "missing",
    });
  }
  return lines;
}

function seconds(startedMs: number): string {
  return `${((performance.now() - startedMs) / 1000).toFixed(1)} s`;
}
