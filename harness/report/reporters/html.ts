import { reportLine, writeHtmlReport } from "../html-report";
import type { ReporterFactory } from "../reporter";

/** report.html in the report dir: the verdict and the evidence as one self-contained page. */
export const htmlReporter: ReporterFactory = ({ reportDir, stdout }) => ({
  onRunEnd({ verdict, saved }) {
    stdout.write(`${reportLine(writeHtmlReport(reportDir, verdict, saved))}\n`);
  },
});
