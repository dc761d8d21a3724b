import fs from "node:fs";
import path from "node:path";

/** What a run writes into its report directory (and `npm run mutate` beside it): nothing else there is touched. */
const RUN_OUTPUTS = [
  "verdict.json",
  "junit.xml",
  "evidence.json.gz",
  "evidence.json",
  "report.html",
  "mutation.json",
  "logs",
];

/**
 * Readies the report directory for a run: a previous run's outputs are removed (keep 0, the default), or moved to
 * `runs/<its run id>` beside the directory, of which the newest `keep` are kept. Returns where the old run went.
 */
export function prepareReportDir(reportDir: string, keep: number): { archived?: string; pruned: string[] } {
  fs.mkdirSync(reportDir, { recursive: true });
  const previous = previousRunId(reportDir);
  // Only a directory a run wrote (its verdict.json there) is cleared: a folder of the user's is left as it is.
  const outputs = fs.existsSync(path.join(reportDir, "verdict.json"))
    ? RUN_OUTPUTS.map((name) => path.join(reportDir, name)).filter((f) => fs.existsSync(f))
    : [];
  let archived: string | undefined;
  if (keep > 0 && previous !== undefined && outputs.length > 0) {
    archived = path.join(archiveRoot(reportDir), previous);
    fs.mkdirSync(archived, { recursive: true });
    for (const file of outputs) fs.renameSync(file, path.join(archived, path.basename(file)));
  } else for (const file of outputs) fs.rmSync(file, { recursive: true, force: true });
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
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, "verdict.json")))
    .map((e) => e.name)
    .sort();
  const gone = runs.slice(0, Math.max(0, runs.length - keep));
  for (const name of gone) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  return gone.map((name) => path.join(root, name));
}
