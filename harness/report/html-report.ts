import fs from "node:fs";
import path from "node:path";
import type { SavedScenario } from "./evidence-file";
import { buildReportModel } from "./report-data";
import { renderReport, type ReportAssets } from "./report-html";
import type { Verdict } from "./verdict";

/** The repository root (this file is dist/harness/report/html-report.js). */
const REPO_ROOT = path.resolve(__dirname, "../../..");

let assets: ReportAssets | undefined;

/** uPlot from node_modules and the client script from the source tree, read once per process. */
export function reportAssets(): ReportAssets {
  if (!assets) {
    const uplotDir = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
    assets = {
      uplotJs: fs.readFileSync(path.join(uplotDir, "uPlot.iife.min.js"), "utf8"),
      uplotCss: fs.readFileSync(path.join(uplotDir, "uPlot.min.css"), "utf8"),
      clientJs: fs.readFileSync(path.join(REPO_ROOT, "harness/report/client/report-client.js"), "utf8"),
    };
  }
  return assets;
}

/** report.html's content for a verdict and the evidence it was judged on. */
export function reportHtml(verdict: Verdict, saved: readonly SavedScenario[]): string {
  return renderReport(buildReportModel(verdict, saved), reportAssets());
}

export interface WrittenReport {
  file: string;
  bytes: number;
  /** Generation and writing, in ms. */
  ms: number;
}

/** Writes DIR/report.html; returns where, how big, and how long it took. */
export function writeHtmlReport(dir: string, verdict: Verdict, saved: readonly SavedScenario[]): WrittenReport {
  const started = performance.now();
  const html = reportHtml(verdict, saved);
  const file = path.join(dir, "report.html");
  fs.writeFileSync(file, html);
  return { file, bytes: Buffer.byteLength(html), ms: Math.round(performance.now() - started) };
}

/** "report: DIR/report.html (412 KiB, 183 ms)" */
export function reportLine(report: WrittenReport): string {
  const size =
    report.bytes >= 2 ** 20 ? `${(report.bytes / 2 ** 20).toFixed(2)} MiB` : `${Math.round(report.bytes / 1024)} KiB`;
  return `report: ${report.file} (${size}, ${report.ms} ms)`;
}
