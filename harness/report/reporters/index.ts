import { ConfigError } from "../../errors";
import { htmlReporter } from "./html";
import { ReporterMultiplexer } from "../multiplexer";
import type { ReporterContext, ReporterFactory } from "../reporter";
import { evidenceReporter } from "./evidence";
import { jsonReporter } from "./json";
import { junitReporter } from "./junit";
import { listReporter } from "./list";
import { progressReporter } from "./progress";

/** Every output of a run by the name `--reporter` takes. A new output is one module and one line here. */
export const REPORTERS: Readonly<Record<string, ReporterFactory>> = {
  progress: progressReporter,
  list: listReporter,
  json: jsonReporter,
  junit: junitReporter,
  evidence: evidenceReporter,
  html: htmlReporter,
};

/** What a run writes unless told otherwise: everything, the console summary before the files' lines. */
export const DEFAULT_REPORTERS = ["progress", "list", "json", "junit", "evidence", "html"];

/** The reporters named (a comma-separated list), behind one multiplexer; ConfigError naming an unknown one. */
export function reportersFor(
  names: readonly string[],
  context: ReporterContext,
  registry: Readonly<Record<string, ReporterFactory>> = REPORTERS,
): ReporterMultiplexer {
  const unknown = names.filter((n) => !Object.hasOwn(registry, n));
  if (unknown.length)
    throw new ConfigError(`--reporter ${unknown.join(",")}: valid reporters: ${Object.keys(registry).join(", ")}`);
  const withNames = { ...context, reporters: names };
  return new ReporterMultiplexer(names.map((name) => ({ name, reporter: registry[name]!(withNames) })));
}
