import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { Evidence } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
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

/** Reads an evidence file (gzipped or plain JSON); a missing or foreign file is an error naming it and what it expected. */
export function readEvidenceFile(file: string): EvidenceFile {
  if (!fs.existsSync(file))
    throw new Error(
      `${file} does not exist: run "npm run scenario" first (it writes ${EVIDENCE_FILE} beside verdict.json)`,
    );
  const raw = fs.readFileSync(file);
  // gzip's magic bytes: a file is read by what it holds, whatever its name.
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw).toString("utf8") : raw.toString("utf8");
  const content = JSON.parse(text) as Partial<EvidenceFile>;
  if (content.version !== 1 || !Array.isArray(content.scenarios))
    throw new Error(`${file} is not a meshproof evidence file (version 1 with a scenarios list)`);
  return content as EvidenceFile;
}
