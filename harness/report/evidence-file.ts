import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { Evidence } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import { ConfigError } from "../errors";
import { recordedOutputs, recordOutputs } from "./report-dir";

/** One judged scenario as saved: what it expected and the evidence it was judged on (re-judged by `npm run mutate`). */
export interface SavedScenario {
  name: string;
  expectations: Expectations;
  evidence: Evidence;
}

/** evidence.json.gz beside verdict.json: every scenario's evidence, enough to judge the run again without the mesh. */
export interface EvidenceFile {
  version: 1;
  runId: string;
  seed: number;
  scenarios: SavedScenario[];
}

/** The evidence file's name: gzipped JSON (a catalog's evidence is about a tenth of its plain size). */
export const EVIDENCE_FILE = "evidence.json.gz";
/** What runs before the gzipped file wrote, still read. */
const PLAIN_EVIDENCE_FILE = "evidence.json";

/** Writes a run's evidence into `dir` (replacing a plain evidence.json of an older run); returns the file and bytes. */
export function writeEvidenceFile(dir: string, content: EvidenceFile): { file: string; bytes: number } {
  const file = path.join(dir, EVIDENCE_FILE);
  const gzipped = zlib.gzipSync(JSON.stringify(content), { level: 6 });
  recordOutputs(dir, EVIDENCE_FILE);
  fs.writeFileSync(file, gzipped);
  // An older run's plain evidence.json goes only when meshproof recorded writing it.
  if (recordedOutputs(dir).includes(PLAIN_EVIDENCE_FILE))
    fs.rmSync(path.join(dir, PLAIN_EVIDENCE_FILE), { force: true });
  return { file, bytes: gzipped.length };
}

/** The evidence file of a run's directory: evidence.json.gz, or an older run's evidence.json. */
export function evidenceFileIn(dir: string): string {
  const gzipped = path.join(dir, EVIDENCE_FILE);
  const plain = path.join(dir, PLAIN_EVIDENCE_FILE);
  return !fs.existsSync(gzipped) && fs.existsSync(plain) ? plain : gzipped;
}

/**
 * A run's file (verdict.json, evidence.json.gz: gzipped or plain JSON, read by what it holds) parsed; a missing,
 * truncated or corrupt one is a ConfigError naming it and the fix.
 */
export function readRunFile(file: string): unknown {
  if (!fs.existsSync(file))
    throw new ConfigError(
      `${file} does not exist: run "npm run scenario" first (it writes ${path.basename(file)} into its --report-dir)`,
    );
  try {
    const raw = fs.readFileSync(file);
    // gzip's magic bytes: a file is read by what it holds, whatever its name.
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(
      `${file} cannot be read (${(error as Error).message}): it is truncated or corrupt; run "npm run scenario" again to write it`,
    );
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where a saved scenario does not have the shape meshproof writes (the first such key), else undefined. */
function savedScenarioFlaw(s: unknown): string | undefined {
  if (!isObject(s)) return "is not an object";
  if (typeof s.name !== "string") return "name is not a string";
  if (!isObject(s.expectations) || !Array.isArray(s.expectations.families) || !isObject(s.expectations.topology))
    return "expectations is not an object with families and topology";
  const e = s.evidence;
  if (!isObject(e)) return "evidence is not an object";
  for (const key of ["requests", "faults", "probes", "services"])
    if (!Array.isArray(e[key])) return `evidence.${key} is not a list`;
  for (const key of ["window", "plan", "metrics", "traces", "logs"])
    if (!isObject(e[key])) return `evidence.${key} is not an object`;
  return undefined;
}

/** Reads an evidence file (gzipped or plain JSON); a missing, corrupt or foreign file is a ConfigError naming it. */
export function readEvidenceFile(file: string): EvidenceFile {
  const content = readRunFile(file);
  if (!isObject(content) || content.version !== 1 || !Array.isArray(content.scenarios))
    throw new ConfigError(
      `${file} is not a meshproof evidence file (version 1 with a scenarios list): run "npm run scenario" again to write it`,
    );
  content.scenarios.forEach((s: unknown, i) => {
    const flaw = savedScenarioFlaw(s);
    if (flaw)
      throw new ConfigError(
        `${file}: scenarios[${i}] ${flaw}, not what meshproof writes: run "npm run scenario" again to write it`,
      );
  });
  return content as unknown as EvidenceFile;
}
