import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { toolCacheDir } from "../config/env";
import { ToolMissingError } from "../errors";
import {
  overrideVariable,
  pinnedVersion,
  sourceDir,
  TOOLS,
  toolStatus,
  DEFAULT_TOOL_NAMES,
  type ToolName,
  type ToolSpec,
  type ToolStatus,
} from "./tools";

const run = promisify(execFile);

export interface ProvisionOptions {
  /** Only these tools (default: every tool, TOOL_NAMES). */
  tools?: readonly ToolName[];
  /** Progress lines go here (default: stderr). */
  log?: (line: string) => void;
  /** How long to wait for another process's provisioning to finish. Default 30 minutes. */
  lockTimeoutMs?: number;
}

/**
 * Installs every missing tool: apt packages for Prometheus and Redis, Go builds into the tool cache for Jaeger,
 * Toxiproxy and the repository's Go services (payments-go, rebuilt when its source hash changes). Idempotent (found
 * tools are left alone) and serialised across processes by a lock in the tool cache. Tools overridden with
 * MESHPROOF_<TOOL>_BIN are never provisioned. Returns the final status of each tool.
 */
export async function provisionTools(options: ProvisionOptions = {}): Promise<ToolStatus[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const names = options.tools ?? DEFAULT_TOOL_NAMES;
  const missing = async () => (await Promise.all(names.map(toolStatus))).filter((s) => !s.found);

  let todo = await missing();
  if (todo.length === 0) return Promise.all(names.map(toolStatus));
  const overridden = todo.find((s) => s.overridden);
  if (overridden) {
    throw new ToolMissingError(
      `${overrideVariable(overridden.name)} points to ${overridden.path}, which is not an executable file; ` +
        `unset it to let "npm run setup" provision ${overridden.name}, or point it at a ${overridden.name} binary`,
    );
  }

  const release = await acquireSetupLock(log, options.lockTimeoutMs);
  try {
    todo = await missing(); // another process may have provisioned them while we waited
    const apt = todo.map((s) => TOOLS[s.name]).filter((spec) => spec.source.kind === "apt");
    if (apt.length > 0) await aptInstall(apt, log);
    for (const status of todo) {
      const spec = TOOLS[status.name];
      if (spec.source.kind === "maven-jar") await mavenJar(spec, log);
      else if (spec.source.kind !== "apt") await goBuild(spec, log);
    }
  } finally {
    release();
  }
  const final = await Promise.all(names.map(toolStatus));
  const still = final.find((s) => !s.found);
  if (still) throw new ToolMissingError(`${still.name} is still missing at ${still.path} after provisioning`);
  return final;
}

/**
 * Takes the tool cache's setup lock (waiting for another setup to finish; a lock whose owner died is taken over).
 * Resolves with the function that releases it.
 */
export async function acquireSetupLock(log: (line: string) => void, timeoutMs = 30 * 60_000): Promise<() => void> {
  const cache = toolCacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const lock = path.join(cache, ".setup.lock");
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = Number(fs.readFileSync(path.join(lock, "pid"), { encoding: "utf8", flag: "a+" }) || NaN);
    if (!Number.isInteger(owner) || !pidAlive(owner)) {
      // The owner died mid-build (its partial output is never renamed into place): take the lock over.
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ToolMissingError(
        `another setup (pid ${owner}) has held ${lock} for over ${timeoutMs} ms; stop it or remove the lock`,
      );
    }
    if (!announced) log(`waiting for another setup (pid ${owner}) to finish…`);
    announced = true;
    await sleep(500);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function aptInstall(specs: readonly ToolSpec[], log: (line: string) => void): Promise<void> {
  const packages = specs.map((spec) => (spec.source.kind === "apt" ? spec.source.package : "")).filter(Boolean);
  await aptInstallPackages(packages, log);
}

/** apt-get install of Debian packages (root only; the error names the command to run otherwise). */
export async function aptInstallPackages(packages: readonly string[], log: (line: string) => void): Promise<void> {
  const fix = `sudo apt-get update && sudo apt-get install -y ${packages.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new ToolMissingError(`${packages.join(", ")} missing and installing them needs root; run: ${fix}`);
  }
  if (!(await onPath("apt-get"))) {
    throw new ToolMissingError(
      `${packages.join(", ")} missing and apt-get is not available; install them with your package manager ` +
        `and point MESHPROOF_<TOOL>_BIN at the binaries`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = ["install", "-y", "--no-install-recommends", ...packages];
  const output = { label: `apt-get install ${packages.join(" ")}`, logFile: setupLogFile("apt"), log };
  fs.writeFileSync(output.logFile, "");
  // A fresh machine has no package lists yet: update once when the first install cannot find the packages.
  if ((await quietRun("apt-get", install, { env }, output)) !== 0) {
    await quietRun("apt-get", ["update"], { env }, { ...output, label: "apt-get update" });
    if ((await quietRun("apt-get", install, { env }, output)) !== 0) {
      throw new ToolMissingError(
        `apt-get could not install ${packages.join(", ")}; its last lines:\n${tail(output.logFile)}\nrun: ${fix}`,
      );
    }
  }
}

async function goBuild(spec: ToolSpec, log: (line: string) => void): Promise<void> {
  const go = "go";
  if (!(await onPath(go))) {
    throw new ToolMissingError(
      `${spec.name} is built from source and needs the Go toolchain, which is not on PATH; ` +
        `put it on PATH (on this machine kind: export PATH="$PATH:/usr/local/go/bin"; elsewhere apt-get install -y golang-go) ` +
        `and run "npm run setup"`,
    );
  }
  const version = pinnedVersion(spec);
  const dir = path.join(toolCacheDir(), `${spec.name}-${version}`);
  const staging = fs.mkdtempSync(path.join(toolCacheDir(), `.${spec.name}-build-`));
  const built = path.join(staging, spec.source.binary);
  const started = Date.now();
  fs.writeFileSync(setupLogFile(spec.name), ""); // this setup's output only
  try {
    const source = spec.source;
    const ldflags = "ldflags" in source && source.ldflags ? [`-ldflags=${source.ldflags}`] : [];
    if (source.kind === "go-source") {
      // -mod=readonly: go.mod/go.sum pin every dependency and the build may not change them; no VCS stamp, so the
      // binary depends on the hashed sources only.
      const moduleDir = sourceDir(source.dir);
      const flags = ["build", "-trimpath", `-ldflags=-X main.sourceHash=${version}`, "-o", built, "."];
      const env = { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false" };
      await mustRun(go, flags, { cwd: moduleDir, env }, log, spec);
    } else if (source.kind === "go-build") {
      const { stdout } = await run(go, ["mod", "download", "-json", `${source.module}@${spec.version}`], {
        maxBuffer: 16 << 20,
        cwd: staging,
      });
      const moduleDir = (JSON.parse(stdout) as { Dir?: string; Error?: string }).Dir;
      if (!moduleDir)
        throw new ToolMissingError(`go mod download of ${source.module}@${spec.version} gave no directory: ${stdout}`);
      await mustRun(go, ["build", ...ldflags, "-o", built, source.package], { cwd: moduleDir }, log, spec);
    } else if (source.kind === "go-install") {
      await mustRun(
        go,
        ["install", ...ldflags, `${source.package}@${spec.version}`],
        {
          cwd: staging,
          env: { ...process.env, GOBIN: staging },
        },
        log,
        spec,
      );
      const installed = path.join(staging, path.basename(source.package));
      if (installed !== built) fs.renameSync(installed, built);
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(built, path.join(dir, spec.source.binary)); // atomic: an interrupted build never looks installed
    log(`${spec.name}: built in ${seconds(Date.now() - started)} -> ${dir}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** What a Maven-fetched jar needs on the machine: a Java runtime to run it and Maven to fetch it. */
const JAVA_PACKAGES = { java: "openjdk-17-jre-headless", mvn: "maven" } as const;

/**
 * Fetches an executable jar from Maven Central with Maven (`dependency:copy`, the registry's ordinary client) into
 * the tool cache and writes its launcher: `exec java $MESHPROOF_JAVA_OPTS -jar <jar> "$@"`. Java and Maven come from
 * Debian when missing.
 */
async function mavenJar(spec: ToolSpec, log: (line: string) => void): Promise<void> {
  const source = spec.source;
  if (source.kind !== "maven-jar") return;
  const missing = [];
  for (const [command, pkg] of Object.entries(JAVA_PACKAGES)) if (!(await onPath(command))) missing.push(pkg);
  if (missing.length > 0) await aptInstallPackages(missing, log);
  const dir = path.join(toolCacheDir(), `${spec.name}-${spec.version}`);
  const staging = fs.mkdtempSync(path.join(toolCacheDir(), `.${spec.name}-fetch-`));
  const started = Date.now();
  const logFile = setupLogFile(spec.name);
  fs.writeFileSync(logFile, "");
  try {
    const args = ["-B", "dependency:copy", `-Dartifact=${source.artifact}`, `-DoutputDirectory=${staging}`];
    const code = await quietRun(
      "mvn",
      args,
      { cwd: staging },
      { label: `${spec.name}: mvn dependency:copy`, logFile, log },
    );
    if (code !== 0 || !fs.existsSync(path.join(staging, source.jar))) {
      throw new ToolMissingError(
        `fetching ${source.artifact} failed (mvn ${args.join(" ")} exited ${code}); its last lines:\n${tail(logFile)}\n` +
          `check that Maven Central is reachable (mvn help:effective-settings shows mirrors) and run "npm run setup" again`,
      );
    }
    const launcher = path.join(staging, source.binary);
    fs.writeFileSync(
      launcher,
      `#!/bin/sh\n# ${spec.name} ${spec.version}, fetched by npm run setup\n` +
        `exec java \${MESHPROOF_JAVA_OPTS:-} -jar "$(dirname "$0")/${source.jar}" "$@"\n`,
      { mode: 0o755 },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir); // atomic: an interrupted fetch never looks installed
    log(`${spec.name}: fetched in ${seconds(Date.now() - started)} -> ${dir}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function mustRun(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
  log: (line: string) => void,
  spec: ToolSpec,
): Promise<void> {
  const logFile = setupLogFile(spec.name);
  const code = await quietRun(command, args, options, { label: `${spec.name}: ${command} ${args[0]}`, logFile, log });
  if (code !== 0) {
    throw new ToolMissingError(
      `building ${spec.name} ${spec.version} failed (${command} ${args.join(" ")} exited ${code}); its last lines:\n` +
        `${tail(logFile)}\n` +
        `check that the Go module proxy is reachable (go env GOPROXY) and run "npm run setup" again`,
    );
  }
}

/** How often a long step says it is still running. */
export const PROGRESS_EVERY_MS = 30_000;

/** Where a tool's (or an image's) setup output goes (the tool cache's setup-logs/, replaced by each setup of it). */
export function setupLogFile(name: string): string {
  const dir = path.join(toolCacheDir(), "setup-logs");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.log`);
}

/** The last lines of a log file, indented. */
export function tail(file: string, lines = 20): string {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd() : "";
  return text
    .split("\n")
    .slice(-lines)
    .map((l) => `  ${l}`)
    .join("\n");
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Runs a command with its whole output in logFile (appended, for when something fails), printing one line when it
 * starts, naming the file, and one every everyMs with the time so far; resolves with its exit code. A Go build's
 * hundreds of `go: downloading` lines stay in the file.
 */
export function quietRun(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
  output: { label: string; logFile: string; log: (line: string) => void; everyMs?: number },
): Promise<number> {
  const { label, logFile, log } = output;
  const started = Date.now();
  log(`${label}… (output in ${logFile})`);
  const file = fs.openSync(logFile, "a");
  fs.writeSync(file, `$ ${command} ${args.join(" ")}\n`);
  const timer = setInterval(
    () => log(`${label}: ${seconds(Date.now() - started)} so far`),
    output.everyMs ?? PROGRESS_EVERY_MS,
  );
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", file, file] });
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  }).finally(() => {
    clearInterval(timer);
    fs.closeSync(file);
  });
}

async function onPath(command: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}
