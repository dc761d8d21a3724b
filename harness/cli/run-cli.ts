import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, exitCodeOf } from "../errors";

const BUILT_IN_ERRORS: unknown[] = [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/**
 * Runs a CLI entry point: known errors print one clear line and exit with their code (2 for usage and setup);
 * anything unexpected prints its stack and exits 2. main resolves with the exit code.
 */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`meshproof: ${message}\n`);
      // Our own error classes are their message; a plain or built-in error (TypeError...) is a bug: its stack says where.
      if (!(error instanceof Error) || BUILT_IN_ERRORS.includes(error.constructor))
        process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
      process.exitCode = exitCodeOf(error);
    },
  );
}

/** node:util parseArgs with usage errors turned into ConfigError (exit 2) that carry the usage text. */
export function parseCliArgs<T extends ParseArgsConfig["options"]>(
  options: T,
  usage: string,
  argv = process.argv.slice(2),
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${usage}`);
  }
}

/**
 * An AbortSignal that fires on the first SIGINT or SIGTERM, so the CLI unwinds through its `await using`
 * disposals and exits 2 (aborted). A second signal exits at once; the lifeline still reaps the children.
 */
export function abortOnSignals(): AbortSignal {
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) process.exit(2);
      process.stderr.write(`meshproof: ${name} received, stopping…\n`);
      controller.abort(new AbortedError(name));
    });
  }
  return controller.signal;
}

/** A run stopped by a signal: `signalName` says which (an interrupted run's verdict records it). */
export class AbortedError extends Error {
  constructor(readonly signalName: NodeJS.Signals) {
    super(`aborted by ${signalName}`);
  }
}
