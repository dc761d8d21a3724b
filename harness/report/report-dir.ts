import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";

/** What a run writes into its report directory (and `npm run mutate` beside it): nothing else there is touched. */
const RUN_OUTPUTS = [
  "verdict.json",
  "junit.xml",
  "evidence.json.gz",
  "evidence.json",
  "report.html",
  "mutation.json",
  "mutation-report.json",
  "mutation-report.html",
  "logs",
];

/**
 * The marker of what meshproof wrote into a folder, one name a line: only what it lists is ever removed or moved,
 * so a folder meshproof never wrote into (or a file of the user's beside its outputs) is left alone.
 */
export const OUTPUTS_MARKER = ".meshproof-outputs";

/** Records that meshproof wrote `names` (of RUN_OUTPUTS) into `dir`: the next run may remove them. */
export function recordOutputs(dir: string, ...names: string[]): void {
  const listed = recordedOutputs(dir);
  const added = names.filter((n) => !listed.includes(n));
  if (added.length) fs.appendFileSync(path.join(dir, OUTPUTS_MARKER), added.map((n) => `${n}\n`).join(""));
}

/** What the marker in `dir` says meshproof wrote there (only names it writes: a marker cannot point elsewhere). */
export function recordedOutputs(dir: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, OUTPUTS_MARKER), "utf8");
  } catch {
    return [];
  }
  return [...new Set(text.split("\n").filter((n) => RUN_OUTPUTS.includes(n)))];
}

/**
 * Creates the report directory if absent and checks a run can write there (a probe file, removed), before anything
 * is started: a read-only folder is a one-line ConfigError, not a run lost at its end.
 */
export function checkReportDir(reportDir: string): void {
  const probe = path.join(reportDir, `.meshproof-write-check-${process.pid}`);
  try {
    fs.mkdirSync(reportDir, { recursive: true });
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError(
      `--report-dir ${reportDir} is not writable (${code ?? message}): give a folder you can write to with --report-dir, or fix its permissions`,
    );
  }
}

/**
 * Readies the report directory for a run (creating it, checking it is writable): the outputs a previous run recorded
 * in its marker are removed (keep 0, the default), or moved to `runs/<its run id>` beside the directory, of which the
 * newest `keep` are kept. Returns where the old run went.
 */
export function prepareReportDir(reportDir: string, keep: number): { archived?: string; pruned: string[] } {
  checkReportDir(reportDir);
  const previous = previousRunId(reportDir);
  const recorded = recordedOutputs(reportDir);
  const outputs = recorded.map((name) => path.join(reportDir, name)).filter((f) => fs.existsSync(f));
  let archived: string | undefined;
  if (keep > 0 && previous !== undefined && outputs.length > 0) {
    archived = path.join(archiveRoot(reportDir), previous);
    fs.mkdirSync(archived, { recursive: true });
    for (const file of outputs) fs.renameSync(file, path.join(archived, path.basename(file)));
    recordOutputs(archived, ...outputs.map((f) => path.basename(f)));
  } else for (const file of outputs) fs.rmSync(file, { recursive: true, force: true });
  // What was recorded is gone: this run's writers record their own.
  fs.rmSync(path.join(reportDir, OUTPUTS_MARKER), { force: true });
  return { ...(archived ? { archived } : {}), pruned: prune(archiveRoot(reportDir), keep) };
}

/** Where kept runs go: `runs/` beside the report directory (reports/latest -> reports/runs). */
export function archiveRoot(reportDir: string): string {
  return path.join(path.dirname(path.resolve(reportDir)), "runs");
}

function previousRunId(reportDir: string): string | undefined {
  try {
    const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as {
      run?: { id?: unknown };
    };
    const id = verdict.run?.id;
    // A run id is a timestamp and a random suffix; anything else is not used as a directory name.
    return typeof id === "string" && /^[\w.-]+$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Removes all but the newest `keep` kept runs (run ids start with their start time, so names sort by age). */
function prune(root: string, keep: number): string[] {
  if (!fs.existsSync(root)) return [];
  const runs = fs
    .readdirSync(root, { withFileTypes: true })
    // Only a kept run meshproof moved there (its marker in it) is pruned.
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, OUTPUTS_MARKER)))
    .map((e) => e.name)
    .sort();
  const gone = runs.slice(0, Math.max(0, runs.length - keep));
  for (const name of gone) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  return gone.map((name) => path.join(root, name));
}
