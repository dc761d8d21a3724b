import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { env, toolCacheDir, type EnvName } from "../config/env";
import { ToolMissingError } from "../errors";

const run = promisify(execFile);

/**
 * Everything `npm run setup` provisions: the stack's tools, the k6 load driver (with `--with k6`), the Go payments service, the
 * browser the report.html test drives (Debian's chromium), Jaeger's HotROD example (a third-party mesh to judge),
 * xmllint (the tests validate junit.xml against Jenkins' schema with it) and Zipkin (the second trace store, for
 * `--trace-store zipkin`).
 */
export const TOOL_NAMES = [
  "jaeger",
  "prometheus",
  "redis",
  "toxiproxy",
  "k6",
  "payments-go",
  "chromium",
  "hotrod",
  "xmllint",
  "zipkin",
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
/**
 * Tools `npm run setup` installs only when asked (`--with k6`): k6 (AGPL-3.0) is run as a separate program for
 * `--driver k6` and typed scripts, never needed by the default path.
 */
export const OPTIONAL_TOOL_NAMES = ["k6"] as const satisfies readonly ToolName[];
/** What `npm run setup` installs with no flag: every tool but the optional ones. */
export const DEFAULT_TOOL_NAMES = TOOL_NAMES.filter(
  (name) => !(OPTIONAL_TOOL_NAMES as readonly string[]).includes(name),
);
/** What a scenario run needs (`npm run scenario` provisions these): the stack's tools and the Go payments. */
export const RUN_TOOL_NAMES = DEFAULT_TOOL_NAMES.filter(
  (name) => !["chromium", "hotrod", "xmllint", "zipkin"].includes(name),
);

/** The command that installs a tool. */
export function setupCommand(name: ToolName): string {
  return (OPTIONAL_TOOL_NAMES as readonly string[]).includes(name)
    ? `npm run setup -- --with ${name}`
    : "npm run setup";
}
/** The tools a backend stack runs (k6 is a load driver started per load run; payments-go is a mesh service). */
export const BACKEND_TOOL_NAMES = ["jaeger", "prometheus", "redis", "toxiproxy"] as const satisfies readonly ToolName[];
export type BackendToolName = (typeof BACKEND_TOOL_NAMES)[number];

/** The repository root (this file is dist/harness/tools/tools.js). */
const REPO_ROOT = path.resolve(__dirname, "../../..");

/** How a tool gets onto the machine. */
export type ToolSource =
  | { kind: "apt"; package: string; binary: string }
  /** `go mod download` the module, then `go build` the package inside it (for modules with replace directives). */
  | { kind: "go-build"; module: string; package: string; binary: string; ldflags?: string }
  | { kind: "go-install"; package: string; binary: string; ldflags?: string }
  /** `go build -trimpath` of a Go module in this repository (dir relative to its root); versioned by sourceHash. */
  | { kind: "go-source"; dir: string; binary: string }
  /**
   * A Java executable jar from Maven Central, fetched by Maven (`dependency:copy`) into the tool cache, with a launcher
   * script (binary) that runs it with the machine's Java; apt installs Java and Maven when they are missing.
   */
  | { kind: "maven-jar"; artifact: string; jar: string; binary: string };

export interface ToolSpec {
  name: ToolName;
  /**
   * The pinned version: a module version for Go tools, the upstream version Debian ships for apt tools, "source"
   * for go-source builds (whose version is the hash of their source, see pinnedVersion).
   */
  version: string;
  source: ToolSource;
  /** Arguments that print the version, and how to read it. */
  versionArgs: readonly string[];
  versionPattern: RegExp;
}

/** The pinned tool set. Go tools are built into the tool cache; apt tools come from Debian (bookworm). */
export const TOOLS: Record<ToolName, ToolSpec> = {
  jaeger: {
    name: "jaeger",
    // Jaeger's v1.x module tags carry the v2 binary in cmd/jaeger (v1.76.0 = Jaeger v2.13.0).
    version: "v1.76.0",
    source: {
      kind: "go-build",
      module: "github.com/jaegertracing/jaeger",
      package: "./cmd/jaeger",
      binary: "jaeger",
      ldflags: "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v1.76.0",
    },
    versionArgs: ["version"],
    versionPattern: /"gitVersion":\s*"([^"]+)"/,
  },
  prometheus: {
    name: "prometheus",
    version: "2.42.0",
    source: { kind: "apt", package: "prometheus", binary: "prometheus" },
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/,
  },
  redis: {
    name: "redis",
    version: "7.0.15",
    source: { kind: "apt", package: "redis-server", binary: "redis-server" },
    versionArgs: ["--version"],
    versionPattern: /v=(\S+)/,
  },
  toxiproxy: {
    name: "toxiproxy",
    version: "v2.5.0",
    // In v2.5.0 the server's package is cmd/server; the binary is renamed toxiproxy-server in the cache.
    source: {
      kind: "go-install",
      package: "github.com/Shopify/toxiproxy/v2/cmd/server",
      binary: "toxiproxy-server",
      ldflags: "-X github.com/Shopify/toxiproxy/v2.Version=v2.5.0",
    },
    versionArgs: ["--version"],
    versionPattern: /version (\S+)/,
  },
  "payments-go": {
    name: "payments-go",
    version: "source",
    // The Go payments service (a drop-in for services/payments), built from this repository.
    source: { kind: "go-source", dir: "services/payments-go", binary: "payments-go" },
    versionArgs: ["--version"],
    versionPattern: /source (\S+)/,
  },
  chromium: {
    name: "chromium",
    // Only the browser test of report.html drives it (headless, through playwright-core); never downloaded by npm.
    version: "156",
    source: { kind: "apt", package: "chromium", binary: "chromium" },
    versionArgs: ["--version"],
    versionPattern: /Chromium (\S+)/,
  },
  xmllint: {
    name: "xmllint",
    // libxml2's validator: the junit.xml tests check the file against Jenkins' JUnit schema with it.
    version: "2.9.14",
    source: { kind: "apt", package: "libxml2-utils", binary: "xmllint" },
    versionArgs: ["--version"],
    versionPattern: /using libxml version (\d+)/,
  },
  hotrod: {
    name: "hotrod",
    // Jaeger's HotROD demo (examples/hotrod of the same module as jaeger), judged as a mesh meshproof did not write.
    version: "v1.76.0",
    source: {
      kind: "go-build",
      module: "github.com/jaegertracing/jaeger",
      package: "./examples/hotrod",
      binary: "hotrod",
    },
    // HotROD prints no version: `hotrod version` and `hotrod --version` exit 2 (cobra's "unknown command/flag", then a
    // nil-logger panic), and its build info says (devel). `--help` exits 0 without starting a service, so the check
    // runs the binary; nothing in it matches, so the status shows the pinned module version.
    versionArgs: ["--help"],
    versionPattern: /version (v\d+\.\d+\.\d+\S*)/,
  },
  zipkin: {
    name: "zipkin",
    // The official server (an executable jar): in-memory storage, the v2 API the ZipkinTraceStore reads.
    version: "3.6.1",
    source: {
      kind: "maven-jar",
      artifact: "io.zipkin:zipkin-server:3.6.1:jar:exec",
      jar: "zipkin-server-3.6.1-exec.jar",
      binary: "zipkin",
    },
    // The server has no version flag (unknown arguments start it): the jar's name carries the version.
    versionArgs: [],
    versionPattern: /$^/,
  },
  k6: {
    name: "k6",
    // k6 reads its version from the module's build info, so a plain `go install` reports v1.8.1.
    version: "v1.8.1",
    source: { kind: "go-install", package: "go.k6.io/k6", binary: "k6" },
    versionArgs: ["version"],
    versionPattern: /k6 (v\d+\.\d+\.\d+\S*)/,
  },
};

export function overrideVariable(name: ToolName): EnvName {
  return `MESHPROOF_${name.toUpperCase().replace(/-/g, "_")}_BIN` as EnvName;
}

/**
 * sha256 (first 12 hex) of a Go module's go.mod, go.sum and *.go files, names included: a source change gives a
 * new tool cache directory (a rebuild), an unchanged tree finds its binary (a no-op).
 */
export function sourceHash(dir: string): string {
  const root = path.join(REPO_ROOT, dir);
  if (!fs.existsSync(path.join(root, "go.mod"))) {
    throw new ToolMissingError(`${root}/go.mod not found: ${dir} is built from this repository's source; restore it`);
  }
  const files = fs
    .readdirSync(root, { recursive: true, encoding: "utf8" })
    .map((f) => f.split(path.sep).join("/"))
    .filter((f) => f === "go.mod" || f === "go.sum" || f.endsWith(".go"))
    .sort();
  const hash = crypto.createHash("sha256");
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(fs.readFileSync(path.join(root, file)))
      .update("\0");
  return hash.digest("hex").slice(0, 12);
}

/** The version a tool must have: its pinned version, or for a go-source build the hash of its source now. */
export function pinnedVersion(spec: ToolSpec): string {
  return spec.source.kind === "go-source" ? sourceHash(spec.source.dir) : spec.version;
}

/** A go-source build's module directory. */
export function sourceDir(dir: string): string {
  return path.join(REPO_ROOT, dir);
}

/** Where the provisioned binary lives: the tool cache for Go tools, the system for apt tools. */
export function provisionedPath(spec: ToolSpec): string {
  if (spec.source.kind === "apt") return path.join("/usr/bin", spec.source.binary);
  return path.join(toolCacheDir(), `${spec.name}-${pinnedVersion(spec)}`, spec.source.binary);
}

export interface ToolStatus {
  name: ToolName;
  path: string;
  found: boolean;
  /** The version the binary reports, or the pinned one when it cannot be read. */
  version: string;
  overridden: boolean;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

async function reportedVersion(spec: ToolSpec, bin: string): Promise<string> {
  if (spec.versionArgs.length === 0) return pinnedVersion(spec);
  try {
    const { stdout, stderr } = await run(bin, [...spec.versionArgs], { timeout: 10_000 });
    return spec.versionPattern.exec(`${stdout}\n${stderr}`)?.[1] || pinnedVersion(spec);
  } catch {
    return pinnedVersion(spec);
  }
}

/** Where a tool is and whether it is there, honouring MESHPROOF_<TOOL>_BIN. */
export async function toolStatus(name: ToolName): Promise<ToolStatus> {
  const spec = TOOLS[name];
  const override = env(overrideVariable(name));
  const file = override ? path.resolve(override) : provisionedPath(spec);
  const found = isExecutable(file);
  return {
    name,
    path: file,
    found,
    version: found ? await reportedVersion(spec, file) : pinnedVersion(spec),
    overridden: override !== undefined,
  };
}

/** The binary to run for a tool; throws ToolMissingError naming the fix when it is not there. */
export async function resolveTool(name: ToolName): Promise<ToolStatus> {
  const status = await toolStatus(name);
  if (status.found) return status;
  const variable = overrideVariable(name);
  throw new ToolMissingError(
    status.overridden
      ? `${variable} points to ${status.path}, which is not an executable file; unset ${variable} or point it at a ${name} binary`
      : `${name} ${status.version} is not installed (expected at ${status.path}); run "${setupCommand(name)}"`,
  );
}
