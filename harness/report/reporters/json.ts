import fs from "node:fs";
import path from "node:path";
import type { ReporterFactory } from "../reporter";
import { recordOutputs } from "../report-dir";

/** verdict.json in the report dir: the run's public result (harness/report/verdict.ts). */
export const jsonReporter: ReporterFactory = ({ reportDir, stdout }) => ({
  onRunEnd({ verdict }) {
    const file = path.join(reportDir, "verdict.json");
    recordOutputs(reportDir, "verdict.json");
    fs.writeFileSync(file, `${JSON.stringify(verdict, null, 2)}\n`);
    stdout.write(`verdict: ${file}\n`);
  },
});
