import fs from "node:fs";
import path from "node:path";
import { rcaScoreLine } from "../assertions/rca";
import { parseCliArgs, runCli } from "./cli/run-cli";
import { ConfigError } from "./errors";
import { readEvidenceFile } from "./report/evidence-file";
import { reportLine, writeHtmlReport } from "./report/html-report";
import { withRca } from "./report/localize-run";
import type { Verdict } from "./report/verdict";

const USAGE = `usage: npm run report -- [--report-dir DIR]
  --report-dir    the directory of a run's verdict.json and evidence.json (default reports/latest); report.html is
                  written beside them. Scenarios without RCA in verdict.json (older runs) are localised from the
                  evidence; verdict.json itself is not changed.`;

runCli(async () => {
  const { values } = parseCliArgs(
    {
      "report-dir": { type: "string", default: path.join("reports", "latest") },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dir = path.resolve(values["report-dir"]);
  const verdictFile = path.join(dir, "verdict.json");
  if (!fs.existsSync(verdictFile))
    throw new ConfigError(
      `${verdictFile} does not exist: run "npm run scenario -- --report-dir ${values["report-dir"]}" first`,
    );
  const started = performance.now();
  const verdict = JSON.parse(fs.readFileSync(verdictFile, "utf8")) as Verdict;
  if (verdict.version !== 2 || !Array.isArray(verdict.scenarios))
    throw new ConfigError(`${verdictFile} is not a meshproof verdict (version 2 with a scenarios list)`);
  const evidence = readEvidenceFile(path.join(dir, "evidence.json"));
  const readMs = Math.round(performance.now() - started);
  const rcaStarted = performance.now();
  const judged = withRca(verdict, evidence.scenarios);
  const rcaMs = Math.round(performance.now() - rcaStarted);
  const report = writeHtmlReport(dir, judged, evidence.scenarios);
  if (judged.rca) process.stdout.write(`${rcaScoreLine(judged.rca)}\n`);
  // The page's own figure first; reading evidence.json and localising (when verdict.json has no RCA) come on top.
  process.stdout.write(`${reportLine(report)}; reading ${readMs} ms, RCA ${rcaMs} ms\n`);
  return 0;
});
