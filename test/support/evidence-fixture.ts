import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { Evidence } from "../../assertions/evidence";
import type { SavedScenario } from "../../harness/report/evidence-file";

/**
 * The evidence of a real catalog run (`npm run scenario`, seed 1), checked in gzipped: what the unit tests judge and
 * mutate. Regenerate it when the evidence format changes: see test/fixtures/evidence/README.md.
 */
const FIXTURE = path.resolve(__dirname, "../../../test/fixtures/evidence/catalog.json.gz");

let cached: SavedScenario[] | undefined;

export function catalogFixture(): SavedScenario[] {
  cached ??= (JSON.parse(zlib.gunzipSync(fs.readFileSync(FIXTURE)).toString("utf8")) as { scenarios: SavedScenario[] })
    .scenarios;
  return cached;
}

/** One scenario of the fixture, deep-copied so a test may change it freely. */
export function scenarioFixture(name: string): SavedScenario {
  const found = catalogFixture().find((s) => s.name === name);
  if (!found) throw new Error(`no scenario "${name}" in ${FIXTURE}`);
  return structuredClone(found);
}

/** The evidence with every record removed: what a run that produced nothing would hand the judge. */
export function emptied(evidence: Evidence): Evidence {
  return {
    ...evidence,
    requests: [],
    faults: [],
    probes: [],
    traces: {},
    logs: {},
    metrics: { start: [], end: [], at: {}, range: [], metadata: {}, exposition: {}, exemplars: [] },
  };
}
