import fs from "node:fs";
import path from "node:path";
import { writeEvidenceFile } from "../evidence-file";
import { formatBytes } from "../../util/format";
import type { ReporterFactory } from "../reporter";
import { recordOutputs } from "../report-dir";

/**
 * evidence.json.gz (every judged scenario's evidence, what `npm run report` and `npm run mutate` read again), and the
 * service logs of each scenario that did not pass, kept under logs/<scenario>/ (the run directory goes with the stack).
 * A previous run's logs are removed before the run by prepareReportDir, when its marker lists them.
 */
export const evidenceReporter: ReporterFactory = ({ reportDir, stdout }) => {
  const logsDir = path.join(reportDir, "logs");
  const kept: string[] = [];
  return {
    onScenarioEnd({ run }) {
      const files = run.logFiles.filter((f) => fs.existsSync(f));
      if (run.verdict.status === "passed" || files.length === 0) return;
      const dir = path.join(logsDir, run.verdict.name);
      recordOutputs(reportDir, "logs");
      fs.mkdirSync(dir, { recursive: true });
      for (const file of files) fs.copyFileSync(file, path.join(dir, path.basename(file)));
      kept.push(run.verdict.name);
    },
    onRunEnd({ verdict, saved }) {
      const started = performance.now();
      const { file, bytes } = writeEvidenceFile(reportDir, {
        version: 1,
        runId: verdict.run.id,
        seed: verdict.run.seed,
        scenarios: [...saved],
      });
      stdout.write(`evidence: ${file} (${formatBytes(bytes)}, ${Math.round(performance.now() - started)} ms)\n`);
      if (kept.length) stdout.write(`service logs of ${kept.join(", ")}: ${logsDir}\n`);
    },
  };
};
