import fs from "node:fs";
import type { Evidence } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";

/** One judged scenario as saved: what it expected and the evidence it was judged on (re-judged by `npm run mutate`). */
export interface SavedScenario {
  name: string;
  expectations: Expectations;
  evidence: Evidence;
}

/** evidence.json beside verdict.json: every scenario's evidence, enough to judge the run again without the mesh. */
export interface EvidenceFile {
  version: 1;
  runId: string;
  seed: number;
  scenarios: SavedScenario[];
}

export function writeEvidenceFile(file: string, content: EvidenceFile): void {
  fs.writeFileSync(file, JSON.stringify(content));
}

/** Reads an evidence.json; a missing or foreign file is an error naming the file and what it expected. */
export function readEvidenceFile(file: string): EvidenceFile {
  if (!fs.existsSync(file))
    throw new Error(
      `${file} does not exist: run "npm run scenario" first (it writes evidence.json beside verdict.json)`,
    );
  const content = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<EvidenceFile>;
  if (content.version !== 1 || !Array.isArray(content.scenarios))
    throw new Error(`${file} is not a meshproof evidence file (version 1 with a scenarios list)`);
  return content as EvidenceFile;
}
