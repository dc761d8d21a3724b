import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Jest's global setup and teardown: every test's temporary directories (its own, the run directories of the stacks
 * it starts, Chromium's profile) go under one directory for the run, removed at its end, so `npm test` leaves nothing
 * in /tmp however a test ends. Jest runs in band here (maxWorkers 1), so the TMPDIR set here is every test's.
 */
const VARIABLE = "MESHPROOF_TEST_TMP";

export function setup(): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-test-"));
  process.env[VARIABLE] = root;
  process.env.TMPDIR = root;
}

export function teardown(): void {
  const root = process.env[VARIABLE];
  if (root) fs.rmSync(root, { recursive: true, force: true });
}
