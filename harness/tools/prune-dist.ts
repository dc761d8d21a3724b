/**
 * Removes compiled files from dist/ whose TypeScript source is gone, so a deleted test or module does not keep
 * running from a stale build (tsc never deletes outputs). Runs after every `npm run build`.
 */
import fs from "node:fs";
import path from "node:path";

const dist = path.resolve(__dirname, "../..");
const root = path.resolve(dist, "..");

function prune(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(file);
      if (fs.readdirSync(file).length === 0) fs.rmdirSync(file);
      continue;
    }
    const match = /^(.*)\.js(\.map)?$/.exec(entry.name);
    if (!match) continue;
    const source = path.join(root, path.relative(dist, dir), `${match[1]}.ts`);
    if (!fs.existsSync(source)) fs.rmSync(file);
  }
}

for (const top of ["assertions", "harness", "scenarios", "services", "test"]) {
  const dir = path.join(dist, top);
  if (fs.existsSync(dir)) prune(dir);
}
