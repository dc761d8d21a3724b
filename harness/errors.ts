/**
 * Errors a caller branches on. Each carries the process exit code the CLI uses for it:
 * 2 for anything that is a usage, configuration or setup problem (the run never judged the mesh).
 */
export class MeshproofError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: an unknown name, a malformed flag, an invalid scenario or environment variable. */
export class ConfigError extends MeshproofError {}

/** A tool binary is missing or cannot be provisioned; the message names the command that fixes it. */
export class ToolMissingError extends MeshproofError {}

/** Something awaited did not happen within its deadline; the message says what, for how long, and the last log lines. */
export class ReadinessTimeoutError extends MeshproofError {}

/** A port the user asked for is taken by another process. */
export class PortInUseError extends MeshproofError {}

/** The exit code for an error escaping a CLI: its own for known errors, 2 for anything else (the run was aborted). */
export function exitCodeOf(error: unknown): number {
  return error instanceof MeshproofError ? error.exitCode : 2;
}
