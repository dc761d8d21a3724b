import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../../errors";
import { resolveContract } from "../../mesh/external-mesh";
import { loadMeshConfig } from "../mesh-config";
import type { Draft } from "./draft";
import { renderConfig } from "./render-config";

/** The config file init writes in its output folder. */
export const CONFIG_FILE = "meshproof.config.ts";

/** The repository root (this file is dist/harness/config/discover/write-draft.js): defineConfig's source is in it. */
const REPO_ROOT = path.resolve(__dirname, "../../../..");

/** What writeDraft wrote, by absolute path. */
export interface WrittenDraft {
  configFile: string;
  contractFiles: string[];
}

/** ConfigError naming the first of the draft's files that exists already (unless force). */
export function refuseOverwrite(files: readonly string[], force: boolean): void {
  const existing = files.find((f) => fs.existsSync(f));
  if (existing && !force)
    throw new ConfigError(`${existing} exists: pass --force to overwrite it, or --out DIR to write elsewhere`);
}

/** Writes the draft into outDir: the config (importing defineConfig from this repository) and its contract files. */
export function writeDraft(draft: Draft, outDir: string, force: boolean): WrittenDraft {
  const configFile = path.join(outDir, CONFIG_FILE);
  const contractFiles = Object.keys(draft.contracts).map((f) => path.join(outDir, f));
  refuseOverwrite([configFile, ...contractFiles], force);
  fs.mkdirSync(outDir, { recursive: true });
  let importPath = path
    .relative(outDir, path.join(REPO_ROOT, "harness", "config", "mesh-config"))
    .split(path.sep)
    .join("/");
  if (!importPath.startsWith(".")) importPath = `./${importPath}`;
  for (const [file, contract] of Object.entries(draft.contracts))
    fs.writeFileSync(path.join(outDir, file), `${prettyJson(contract)}\n`);
  fs.writeFileSync(configFile, renderConfig(draft, importPath));
  return { configFile, contractFiles };
}

/**
 * Loads a written draft back as `npm run scenario -- --config` would, contracts included: one that does not validate
 * is a bug of init, and the error says so.
 */
export function checkDraft(configFile: string): void {
  try {
    const config = loadMeshConfig(configFile);
    for (const s of Object.values(config.services))
      if (s.contract) resolveContract(s.contract, path.dirname(configFile));
  } catch (error) {
    throw new Error(
      `the draft written to ${configFile} does not load, a bug of init (report it with the file and --save-answers): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** JSON as prettier writes it: two spaces, an array of plain values on one line when it fits. */
function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\n\s+([^[\]{}]*?)\n\s*\]/g, (whole, inner: string) => {
    const flat = `[${inner.split(/,\n\s+/).join(", ")}]`;
    return flat.length <= 90 ? flat : whole;
  });
}
