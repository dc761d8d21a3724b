import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  EVIDENCE_FILE,
  evidenceFileIn,
  readEvidenceFile,
  writeEvidenceFile,
  type EvidenceFile,
} from "../../../harness/report/evidence-file";
import { recordOutputs } from "../../../harness/report/report-dir";
import { catalogFixture } from "../../support/evidence-fixture";

describe("the evidence file", () => {
  let dir: string;
  const content: EvidenceFile = { version: 1, runId: "unit", seed: 1, scenarios: catalogFixture() };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-evidence-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("is written gzipped and read back whole, at a fraction of the plain size", () => {
    const { file, bytes } = writeEvidenceFile(dir, content);
    expect(file).toBe(path.join(dir, EVIDENCE_FILE));
    expect(fs.statSync(file).size).toBe(bytes);
    const plain = Buffer.byteLength(JSON.stringify(content));
    expect(bytes).toBeLessThan(plain / 5);
    expect(readEvidenceFile(evidenceFileIn(dir))).toEqual(content);
  });

  test("an older run's plain evidence.json is still read; written again, the gzipped file is read and the plain one removed only when recorded", () => {
    const plain = path.join(dir, "evidence.json");
    fs.writeFileSync(plain, JSON.stringify(content));
    expect(evidenceFileIn(dir)).toBe(plain);
    expect(readEvidenceFile(plain).runId).toBe("unit");
    writeEvidenceFile(dir, { ...content, runId: "again" });
    // No marker records it: it may be the user's, and is left (the gzipped file is the one read).
    expect(fs.existsSync(plain)).toBe(true);
    expect(readEvidenceFile(evidenceFileIn(dir)).runId).toBe("again");
    recordOutputs(dir, "evidence.json");
    writeEvidenceFile(dir, { ...content, runId: "third" });
    expect(fs.existsSync(plain)).toBe(false);
    expect(readEvidenceFile(evidenceFileIn(dir)).runId).toBe("third");
  });

  test("a file that is not evidence is an error naming it", () => {
    const file = path.join(dir, EVIDENCE_FILE);
    fs.writeFileSync(file, JSON.stringify({ version: 2 }));
    expect(() => readEvidenceFile(file)).toThrow(`${file} is not a meshproof evidence file`);
  });
});
