import path from "node:path";
import { rcaScoreLine } from "../../assertions/rca";
import { reportLine, rewriteReport } from "../report/html-report";
import { parseCliArgs, runCli } from "./run-cli";

const USAGE = `usage: npm run report -- [--report-dir DIR]
  --report-dir    the directory of a run's verdict.json and evidence.json.gz (default reports/latest); report.html is
                  written beside them; verdict.json itself is not changed.`;

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
  const { verdict, report, readMs } = rewriteReport(path.resolve(values["report-dir"]));
  if (verdict.rca) process.stdout.write(`${rcaScoreLine(verdict.rca)}\n`);
  // The page's own figure first; reading the files comes on top.
  process.stdout.write(`${reportLine(report)}; reading ${readMs} ms\n`);
  return 0;
});
