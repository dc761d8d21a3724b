import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";
import { formatBytes } from "../util/format";
import { evidenceFileIn, readEvidenceFile, readRunFile, type SavedScenario } from "./evidence-file";
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

/** A run's verdict.json, checked for the shape report.html is built from; a ConfigError naming the file otherwise. */
export function readVerdictFile(file: string): Verdict {
  const verdict = readRunFile(file) as Partial<Verdict> | null;
  const scenarios = verdict?.scenarios;
  const run = verdict?.run;
  const foreign =
    typeof verdict !== "object" ||
    verdict === null ||
    verdict.version !== 2 ||
    !Array.isArray(scenarios) ||
    typeof run !== "object" ||
    run === null ||
    typeof run.id !== "string";
  if (foreign)
    throw new ConfigError(
      `${file} is not a meshproof verdict (version 2 with a run id and a scenarios list): run "npm run scenario" again to write it`,
    );
  scenarios.forEach((s, i) => {
    const ok =
      typeof s === "object" &&
      s !== null &&
      typeof s.name === "string" &&
      typeof s.status === "string" &&
      Array.isArray(s.assertions) &&
      typeof s.groundTruth === "object" &&
      s.groundTruth !== null;
    if (!ok)
      throw new ConfigError(
        `${file}: scenarios[${i}] is not a scenario verdict (name, status, assertions, groundTruth): run "npm run scenario" again to write it`,
      );
  });
  return verdict as Verdict;
}

/** report.html written again from a run's verdict.json and evidence file in `dir` (npm run report). */
export function rewriteReport(dir: string): { verdict: Verdict; report: WrittenReport; readMs: number } {
  const verdictFile = path.join(dir, "verdict.json");
  if (!fs.existsSync(verdictFile))
    throw new ConfigError(`${verdictFile} does not exist: run "npm run scenario -- --report-dir ${dir}" first`);
  const started = performance.now();
  const verdict = readVerdictFile(verdictFile);
  const evidenceFile = evidenceFileIn(dir);
  const evidence = readEvidenceFile(evidenceFile);
  const readMs = Math.round(performance.now() - started);
  try {
    return { verdict, report: writeHtmlReport(dir, verdict, evidence.scenarios), readMs };
  } catch (error) {
    // Files that pass the checks above may still differ deeper down from what this meshproof writes.
    if (!(error instanceof TypeError)) throw error;
    throw new ConfigError(
      `report.html cannot be built from ${verdictFile} and ${evidenceFile} (${error.message}): they are not what this meshproof writes; run "npm run scenario" again to write them`,
    );
  }
}
