import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { env, toolCacheDir, type EnvName } from "../config/env";
import { ToolMissingError } from "../errors";

const run = promisify(execFile);

export const TOOL_NAMES = ["jaeger", "prometheus", "redis", "toxiproxy", "k6"] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
/** The tools a backend stack runs (k6 is a load driver, started per load run, not part of the stack). */
export const BACKEND_TOOL_NAMES = ["jaeger", "prometheus", "redis", "toxiproxy"] as const satisfies readonly ToolName[];
export type BackendToolName = (typeof BACKEND_TOOL_NAMES)[number];

/** How a tool gets onto the machine. */
export type ToolSource =
  | { kind: "apt"; package: string; binary: string }
  /** `go mod download` the module, then `go build` the package inside it (for modules with replace directives). */
  | { kind: "go-build"; module: string; package: string; binary: string; ldflags?: string }
  | { kind: "go-install"; package: string; binary: string; ldflags?: string };

export interface ToolSpec {
  name: ToolName;
  /** The pinned version: a module version for Go tools, the upstream version Debian ships for apt tools. */
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
  return `MESHPROOF_${name.toUpperCase()}_BIN` as EnvName;
}

/** Where the provisioned binary lives: the tool cache for Go tools, the system for apt tools. */
export function provisionedPath(spec: ToolSpec): string {
  if (spec.source.kind === "apt") return path.join("/usr/bin", spec.source.binary);
  return path.join(toolCacheDir(), `${spec.name}-${spec.version}`, spec.source.binary);
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
  try {
    const { stdout, stderr } = await run(bin, [...spec.versionArgs], { timeout: 10_000 });
    return spec.versionPattern.exec(`${stdout}\n${stderr}`)?.[1] || spec.version;
  } catch {
    return spec.version;
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
    version: found ? await reportedVersion(spec, file) : spec.version,
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
      : `${name} ${TOOLS[name].version} is not installed (expected at ${status.path}); run "npm run setup"`,
  );
}
