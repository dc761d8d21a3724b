import fs from "node:fs";
import module from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let registered = false;

/**
 * Loads a scenario or config module: compiled JavaScript as is, TypeScript source directly (Node 24 strips the
 * types). Relative imports without an extension ("./lib/sample-topology"), as tsc resolves them, are resolved to their .ts
 * file by a resolve hook registered on first use.
 */
/** The repository root (this file is dist/scenarios/lib/module-loader.js). */
const ROOT = path.resolve(__dirname, "../../..");

/**
 * meshproof's own modules a TypeScript catalog imports (scenarios/lib, assertions) are loaded compiled from dist/:
 * stripping types cannot load all of them (JSON imports, parameter properties), and the compiled ones are the ones
 * the harness runs. Other files are left to Node.
 */
function compiled(url: string): { url: string; format: "commonjs"; shortCircuit: true } | undefined {
  if (!url.startsWith("file:")) return undefined;
  const relative = path.relative(ROOT, fileURLToPath(url));
  if (relative.startsWith("..") || relative.startsWith(`dist${path.sep}`) || path.isAbsolute(relative))
    return undefined;
  const js = path.join(ROOT, "dist", relative.replace(/\.ts$/, ".js"));
  return fs.existsSync(js) ? { url: pathToFileURL(js).href, format: "commonjs", shortCircuit: true } : undefined;
}

export function loadModule(file: string): unknown {
  if (/\.[cm]?ts$/.test(file) && !registered) {
    registered = true;
    module.registerHooks({
      resolve(specifier, context, next) {
        try {
          return next(specifier, context);
        } catch (error) {
          if (!/^\.\.?\//.test(specifier) || /\.[cm]?[jt]s$/.test(specifier)) throw error;
          for (const suffix of [".ts", "/index.ts"]) {
            let resolved;
            try {
              resolved = next(`${specifier}${suffix}`, context);
            } catch {
              continue; // try the next form
            }
            return compiled(resolved.url) ?? resolved;
          }
          throw error;
        }
      },
    });
    // A .ts file in a package without "type" is parsed as an ES module after a CommonJS attempt; Node warns about
    // the retry once per file. The retry is expected here, so that one warning is not printed.
    const emitWarning = process.emitWarning.bind(process);
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      const code = typeof rest[0] === "object" ? (rest[0] as { code?: string })?.code : rest[1];
      if (code === "MODULE_TYPELESS_PACKAGE_JSON") return;
      (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
    }) as typeof process.emitWarning;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}
