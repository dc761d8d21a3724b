import fs from "node:fs";
import path from "node:path";
import { toolCacheDir } from "../config/env";
import { ToolMissingError } from "../errors";
import { NODE_FLAGS } from "../mesh/mesh";
import { TOOLS, toolStatus, type ToolName, type ToolStatus } from "../tools/tools";
import { quietRun, setupLogFile, tail } from "../tools/provision";
import { baseRecipe, baseTag, buildBaseImage, type BaseRecipe } from "./base-image";
import { DigestCache, sha256 } from "./digests";
import { docker, runCommand } from "./docker-cli";
import { DOCKER_SETUP_COMMAND, engineRequest } from "./engine";

/**
 * The images meshproof builds, in build order: the base, the four backend tools, and the mesh services —
 * node-runtime (Node and the production node_modules, rebuilt only when the binary or the lock file changes) under
 * node-service (dist/, rebuilt on every change to the services, from a context of a few MB), and payments-go (the
 * Go payments service's binary from the tool cache, rebuilt when its source hash changes).
 */
export const IMAGE_NAMES = [
  "base",
  "jaeger",
  "prometheus",
  "redis",
  "toxiproxy",
  "node-runtime",
  "node-service",
  "payments-go",
] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
export const BACKEND_IMAGES = ["jaeger", "prometheus", "redis", "toxiproxy"] as const satisfies readonly ToolName[];
/** The images the mesh services run from, by implementation (harness/mesh/container-launcher.ts, compose). */
export const MESH_IMAGES = { node: "node-service", go: "payments-go" } as const satisfies Record<string, ImageName>;

/** Label holding the hash of an image's inputs (Dockerfile, build args, every copied file, the base's hash). */
export const INPUTS_LABEL = "meshproof.inputs";
/** Label holding the tool version the image runs (as the binary reports it, like the native backend). */
export const TOOL_VERSION_LABEL = "meshproof.tool-version";

/** Where build contexts, the digest cache and dockerd's log live: the tool cache, outside the clone. */
export function dockerCacheDir(): string {
  return path.join(toolCacheDir(), "docker");
}

/** dist/ of this build, and the checkout around it. */
const DIST_ROOT = path.resolve(__dirname, "..", "..");
const REPO_ROOT = path.resolve(DIST_ROOT, "..");
const COMPOSE_DIR = path.join(REPO_ROOT, "compose");

/** One file or directory tree copied into a build context. */
interface ContextEntry {
  /** Path inside the context. */
  target: string;
  source: string;
  /** What stands for its content in the inputs hash (default: the file's or tree's digest). */
  digest?: string;
}

/** Everything needed to decide whether an image is current and to build it. */
export interface ImagePlan {
  name: ImageName;
  tag: string;
  dockerfile: string;
  entries: ContextEntry[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  inputsHash: string;
  /** Prepares what the context needs that is not a plain copy (production node_modules). */
  prepare?: (log: (line: string) => void) => Promise<void>;
}

export interface ImageState {
  name: ImageName;
  tag: string;
  present: boolean;
  /** Present and built from the current inputs. */
  current: boolean;
  id?: string;
  labels: Record<string, string>;
  /** Why the image cannot be planned (a tool it copies is not built). */
  problem?: string;
}

/** What the engine knows of a tag (GET /images/<tag>/json; 404 = absent). */
export async function inspectImage(
  tag: string,
): Promise<{ present: false } | { present: true; id: string; labels: Record<string, string> }> {
  const response = await engineRequest("GET", `/images/${tag}/json`, { timeoutMs: 5_000 });
  if (response.status === 404) return { present: false };
  if (response.status !== 200) throw new Error(`docker image inspect ${tag}: engine answered ${response.status}`);
  const info = JSON.parse(response.body) as { Id: string; Config?: { Labels?: Record<string, string> | null } };
  return { present: true, id: info.Id, labels: info.Config?.Labels ?? {} };
}

/** The tag each image is built as (in the "meshproof" namespace but for benchmark builds). */
export function imageTag(name: ImageName, namespace = "meshproof"): string {
  if (name === "base") return baseTag(namespace);
  // The mesh's images are versioned with the project (payments-go's source hash is its tool-version label).
  if (name === "node-service" || name === "node-runtime" || name === "payments-go")
    return `${namespace}/${name}:${projectVersion()}`;
  return `${namespace}/${name}:${TOOLS[name].version}`;
}

function projectVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

export interface ImageBuilderOptions {
  /** Repository namespace of the tags. Default "meshproof"; the benchmark builds a cold set under another. */
  namespace?: string;
  /** Build without the engine's layer cache (docker build --no-cache). Default false. */
  noCache?: boolean;
  /** Build contexts, production node_modules and the digest cache. Default: <tool cache>/docker. */
  workDir?: string;
  /** Tools already resolved (their paths and reported versions); default: resolved here. */
  tools?: readonly ToolStatus[];
}

export class ImageBuilder {
  private readonly namespace: string;
  private readonly noCache: boolean;
  private readonly workDir: string;
  private readonly digests: DigestCache;
  private readonly tools: readonly ToolStatus[];
  private base: BaseRecipe | undefined;

  constructor(options: ImageBuilderOptions = {}) {
    this.tools = options.tools ?? [];
    this.namespace = options.namespace ?? "meshproof";
    this.noCache = options.noCache ?? false;
    this.workDir = options.workDir ?? dockerCacheDir();
    this.digests = new DigestCache(path.join(this.workDir, "digests.json"));
  }

  /** The tag of an image as this builder names it. */
  tag(name: ImageName): string {
    return imageTag(name, this.namespace);
  }

  /** The plan of each named image (its inputs hashed; nothing is built). */
  async plan(name: ImageName): Promise<ImagePlan> {
    this.base ??= baseRecipe(this.namespace);
    if (name === "base") {
      return {
        name,
        tag: this.base.tag,
        dockerfile: "",
        entries: [],
        buildArgs: {},
        labels: {},
        inputsHash: this.base.inputsHash,
      };
    }
    const plan =
      name === "node-service"
        ? await this.nodeServicePlan()
        : name === "node-runtime"
          ? await this.nodeRuntimePlan()
          : await this.toolPlan(name);
    // An image FROM another of ours changes with it: node-service with node-runtime, every one with the base.
    const parent = name === "node-service" ? (await this.plan("node-runtime")).inputsHash : this.base.inputsHash;
    const dockerfile = fs.readFileSync(plan.dockerfile, "utf8");
    const files = await Promise.all(
      plan.entries.map(async (e) => `${e.target}\0${e.digest ?? (await this.digestOf(e.source))}`),
    );
    plan.inputsHash = sha256(JSON.stringify({ dockerfile, parent, args: plan.buildArgs, labels: plan.labels, files }));
    this.digests.save();
    return plan;
  }

  /** Current state of each image against its plan. */
  async states(names: readonly ImageName[]): Promise<ImageState[]> {
    const states: ImageState[] = [];
    for (const name of names) {
      let plan: ImagePlan;
      try {
        plan = await this.plan(name);
      } catch (error) {
        const tag = this.tag(name);
        states.push({ name, tag, present: false, current: false, labels: {}, problem: (error as Error).message });
        continue;
      }
      const found = await inspectImage(plan.tag);
      states.push({
        name,
        tag: plan.tag,
        present: found.present,
        current: found.present && found.labels[INPUTS_LABEL] === plan.inputsHash,
        id: found.present ? found.id : undefined,
        labels: found.present ? found.labels : {},
      });
    }
    return states;
  }

  /**
   * Builds each image whose inputs hash differs from its label (or that is missing); the rest are left alone.
   * The base first: every other image is FROM it. Never pulls. Returns what was done and how long it took.
   */
  async ensure(
    names: readonly ImageName[],
    log: (line: string) => void,
  ): Promise<{ name: ImageName; tag: string; action: "built" | "current"; ms: number }[]> {
    const wanted: ImageName[] = ["base", ...names];
    if (names.includes("node-service")) wanted.push("node-runtime");
    const results: { name: ImageName; tag: string; action: "built" | "current"; ms: number }[] = [];
    for (const name of IMAGE_NAMES.filter((n) => wanted.includes(n))) {
      const started = performance.now();
      const plan = await this.plan(name);
      const found = await inspectImage(plan.tag);
      if (found.present && found.labels[INPUTS_LABEL] === plan.inputsHash) {
        results.push({ name, tag: plan.tag, action: "current", ms: performance.now() - started });
        continue;
      }
      log(`${name}: building ${plan.tag} (${found.present ? "inputs changed" : "not built yet"})`);
      if (name === "base") await buildBaseImage(this.base!, log, this.workDir);
      else await this.build(plan, log);
      const built = await inspectImage(plan.tag);
      if (!built.present || built.labels[INPUTS_LABEL] !== plan.inputsHash) {
        throw new ToolMissingError(`${plan.tag} is not labelled ${INPUTS_LABEL}=${plan.inputsHash} after its build`);
      }
      // The previous build of this tag is now untagged: drop it (it stays while a container still uses it).
      if (found.present && found.id !== built.id) await docker(["image", "rm", found.id]);
      const ms = performance.now() - started;
      log(`${name}: built ${plan.tag} in ${(ms / 1000).toFixed(1)} s`);
      results.push({ name, tag: plan.tag, action: "built", ms });
    }
    return results;
  }

  /** Removes every image of this builder's namespace (the benchmark's cold set). */
  async removeAll(): Promise<void> {
    for (const name of [...IMAGE_NAMES].reverse()) await docker(["image", "rm", "--force", this.tag(name)]);
  }

  private async build(plan: ImagePlan, log: (line: string) => void): Promise<void> {
    await plan.prepare?.(log);
    const context = path.join(this.workDir, "contexts", plan.name);
    fs.rmSync(context, { recursive: true, force: true });
    fs.mkdirSync(context, { recursive: true });
    fs.copyFileSync(plan.dockerfile, path.join(context, "Dockerfile"));
    for (const entry of plan.entries) await placeInContext(entry, context);
    const labels = { ...plan.labels, "meshproof.image": plan.name, [INPUTS_LABEL]: plan.inputsHash };
    const args = [
      "build",
      "--network",
      "host",
      "--pull=false",
      "--rm",
      "--force-rm",
      ...(this.noCache ? ["--no-cache"] : []),
      "--tag",
      plan.tag,
      "--build-arg",
      `BASE_IMAGE=${this.base!.tag}`,
      ...Object.entries(plan.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
      ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      context,
    ];
    // The builder's step-by-step output goes to a file: one line when it starts, one every 30 s, its tail on failure.
    const logFile = setupLogFile(`image-${plan.name}`);
    fs.writeFileSync(logFile, "");
    const env = { ...process.env, DOCKER_BUILDKIT: "0" }; // as docker() runs it: the classic builder
    const code = await quietRun("docker", args, { env }, { label: `${plan.name}: docker build`, logFile, log });
    if (code !== 0) {
      throw new ToolMissingError(
        `docker build of ${plan.tag} failed (exit ${code}); its last lines:\n${tail(logFile)}\nfix the cause and run "${DOCKER_SETUP_COMMAND}" again`,
      );
    }
  }

  private async toolPlan(name: (typeof BACKEND_IMAGES)[number] | "payments-go"): Promise<ImagePlan> {
    const spec = TOOLS[name];
    const status = this.tools.find((t) => t.name === name) ?? (await toolStatus(name));
    const labels = { "meshproof.tool": name, [TOOL_VERSION_LABEL]: status.version };
    const dockerfile = path.join(COMPOSE_DIR, `${name}.Dockerfile`);
    if (spec.source.kind === "apt") {
      // The same Debian package version as on the host, from the same mirror: the same binary as native.
      const version = await installedPackageVersion(spec.source.package);
      return {
        name,
        tag: this.tag(name),
        dockerfile,
        entries: [],
        buildArgs: { PACKAGE_VERSION: version },
        labels,
        inputsHash: "",
      };
    }
    if (!status.found) {
      throw new ToolMissingError(
        `${name} ${spec.version} is not built (expected at ${status.path}); run "${DOCKER_SETUP_COMMAND}"`,
      );
    }
    return {
      name,
      tag: this.tag(name),
      dockerfile,
      entries: [{ target: spec.source.binary, source: status.path }],
      buildArgs: {},
      labels,
      inputsHash: "",
    };
  }

  private async nodeRuntimePlan(): Promise<ImagePlan> {
    const lock = path.join(REPO_ROOT, "package-lock.json");
    const lockDigest = await this.digests.file256(lock);
    const modules = path.join(this.workDir, "node-modules", lockDigest.slice(0, 16));
    const node = nodeBinary();
    return {
      name: "node-runtime",
      tag: this.tag("node-runtime"),
      dockerfile: path.join(COMPOSE_DIR, "node-runtime.Dockerfile"),
      entries: [
        { target: "node", source: node.path },
        { target: "app/package.json", source: path.join(REPO_ROOT, "package.json") },
        // The production install is a function of the lock file: its digest stands for the tree.
        { target: "app/node_modules", source: path.join(modules, "node_modules"), digest: `lock:${lockDigest}` },
      ],
      buildArgs: {},
      labels: { "meshproof.node-version": node.version },
      inputsHash: "",
      prepare: (log) => productionModules(modules, lock, log),
    };
  }

  private async nodeServicePlan(): Promise<ImagePlan> {
    for (const dir of ["services", "assertions"]) {
      if (!fs.existsSync(path.join(DIST_ROOT, dir))) {
        throw new ToolMissingError(`dist/${dir} is missing; run "npm run build" first`);
      }
    }
    return {
      name: "node-service",
      tag: this.tag("node-service"),
      dockerfile: path.join(COMPOSE_DIR, "node-service.Dockerfile"),
      entries: [
        { target: "meshproof-service", source: path.join(COMPOSE_DIR, "node-service-entrypoint.sh") },
        { target: "app/dist/services", source: path.join(DIST_ROOT, "services") },
        { target: "app/dist/assertions", source: path.join(DIST_ROOT, "assertions") },
        { target: "app/services/proto", source: path.join(REPO_ROOT, "services", "proto") },
      ],
      // The entry point passes these to node: the flags of the native mesh, from the one list in harness/mesh.
      buildArgs: { RUNTIME_IMAGE: this.tag("node-runtime"), NODE_FLAGS: NODE_FLAGS.join(" ") },
      labels: {},
      inputsHash: "",
    };
  }

  private async digestOf(source: string): Promise<string> {
    return fs.statSync(source).isDirectory() ? this.digests.tree256(source) : this.digests.file256(source);
  }
}

/** `npm ci --omit=dev` of this checkout's lock file, once per lock digest, into the tool cache. */
async function productionModules(dir: string, lock: string, log: (line: string) => void): Promise<void> {
  if (fs.existsSync(path.join(dir, "node_modules"))) return;
  const staging = `${dir}.${process.pid}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.copyFileSync(lock, path.join(staging, "package-lock.json"));
  fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(staging, "package.json"));
  const logFile = setupLogFile("image-node-modules");
  fs.writeFileSync(logFile, "");
  const code = await quietRun(
    "npm",
    ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"],
    { cwd: staging },
    { label: "node-service: npm ci --omit=dev (production node_modules for the image)", logFile, log },
  );
  if (code !== 0) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new ToolMissingError(
      `npm ci --omit=dev for the node-service image failed (exit ${code}); its last lines:\n${tail(logFile)}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
}

/** The real Node binary of the project's `node` devDependency (not a wrapper script). */
export function nodeBinary(): { path: string; version: string } {
  const pkgDir = path.join(REPO_ROOT, "node_modules", "node");
  const candidates = [path.join(pkgDir, "bin", "node"), path.join(REPO_ROOT, "node_modules", ".bin", "node")];
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue;
    const real = fs.realpathSync(candidate);
    const head = Buffer.alloc(4);
    const fd = fs.openSync(real, "r");
    fs.readSync(fd, head, 0, 4, 0);
    fs.closeSync(fd);
    if (head.toString("latin1") === "\x7fELF") {
      const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string })
        .version;
      return { path: real, version };
    }
  }
  throw new ToolMissingError(
    `no Node binary in node_modules/node (the "node" devDependency); run "npm ci" before "${DOCKER_SETUP_COMMAND}"`,
  );
}

/** The version dpkg has installed of a package (exact, for apt-get install PACKAGE=VERSION). */
async function installedPackageVersion(pkg: string): Promise<string> {
  const result = await runCommand("dpkg-query", ["-W", "-f", "${Version}", pkg]);
  if (result.code !== 0 || !result.stdout.trim()) {
    throw new ToolMissingError(
      `the Debian package ${pkg} is not installed on this machine; its image installs the same version, so run "${DOCKER_SETUP_COMMAND}"`,
    );
  }
  return result.stdout.trim();
}

/** Hard-links (or copies, across file systems) a file or tree into the context. */
async function placeInContext(entry: ContextEntry, context: string): Promise<void> {
  const target = path.join(context, entry.target);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.statSync(entry.source).isDirectory()) {
    const linked = await runCommand("cp", ["-al", entry.source, target]);
    if (linked.code !== 0) fs.cpSync(entry.source, target, { recursive: true, dereference: true });
    return;
  }
  try {
    fs.linkSync(entry.source, target);
  } catch {
    fs.copyFileSync(entry.source, target);
  }
  fs.chmodSync(target, fs.statSync(entry.source).mode & 0o777);
}
