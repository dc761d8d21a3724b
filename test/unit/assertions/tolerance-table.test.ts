import fs from "node:fs";
import path from "node:path";
import { DIST } from "../../support/cli";

const ROOT = path.resolve(DIST, "..");
/** Named numbers in assertions/ that bound nothing: units, and how many examples a message or sample holds. */
const NOT_BOUNDS = new Set(["GIB", "MIB", "SAMPLE_SIZE", "MESSAGE_SAMPLES", "MARGIN_MIN_OBSERVATIONS"]);

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(file) : entry.name.endsWith(".ts") ? [file] : [];
  });
}

describe("the README's table of tolerances", () => {
  test("names every numeric bound the judge declares as a constant, with a cause column", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const table = /### Tolerances([\s\S]*?)<\/details>/.exec(readme)?.[1];
    if (!table) throw new Error("README.md has no ### Tolerances section ending in </details>");
    const rows = table.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| Assertion"));
    expect(rows.length).toBeGreaterThan(50);
    for (const row of rows) expect(row.split("|").map((cell) => cell.trim())[4]).not.toBe("");
    const declared = sources(path.join(ROOT, "assertions")).flatMap((file) =>
      [...fs.readFileSync(file, "utf8").matchAll(/^(?:export )?const ([A-Z][A-Z0-9_]*) = [\d.]/gm)].map((m) => m[1]!),
    );
    expect(declared.length).toBeGreaterThan(10);
    expect(declared.filter((name) => !NOT_BOUNDS.has(name) && !table.includes(name))).toEqual([]);
  });
});
