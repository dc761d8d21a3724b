import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";
import { formatBytes } from "../util/format";
import { evidenceFileIn, readEvidenceFile, type SavedScenario } from "./evidence-file";
import { recordOutputs } from "./report-dir";
import { buildReportModel } from "./report-model";
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
  recordOutputs(dir, "report.html");
  fs.writeFileSync(file, html);
  return { file, bytes: Buffer.byteLength(html), ms: Math.round(performance.now() - started) };
}

/** "report: DIR/report.html (412 KiB, 183 ms)" */
export function reportLine(report: WrittenReport): string {
  return `report: ${report.file} (${formatBytes(report.bytes)}, ${report.ms} ms)`;
}

/** report.html written again from a run's verdict.json and evidence file in `dir` (npm run report). */
export function rewriteReport(dir: string): { verdict: Verdict; report: WrittenReport; readMs: number } {
  const verdictFile = path.join(dir, "verdict.json");
  if (!fs.existsSync(verdictFile))
    throw new ConfigError(`${verdictFile} does not exist: run "npm run scenario -- --report-dir ${dir}" first`);
  const started = performance.now();
  const verdict = JSON.parse(fs.readFileSync(verdictFile, "utf8")) as Verdict;
  if (verdict.version !== 2 || !Array.isArray(verdict.scenarios))
    throw new ConfigError(`${verdictFile} is not a meshproof verdict (version 2 with a scenarios list)`);
  const evidence = readEvidenceFile(evidenceFileIn(dir));
  const readMs = Math.round(performance.now() - started);
  return { verdict, report: writeHtmlReport(dir, verdict, evidence.scenarios), readMs };
}
