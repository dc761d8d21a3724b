/**
 * Two runs' verdicts compared outcome by outcome: every scenario's status and every assertion's id and status
 * (outcomeLines). Prints the differences, or how many outcomes agree; exits 0 when they agree, 1 when not.
 * Usage: npm run compare:verdicts -- BEFORE/verdict.json AFTER/verdict.json
 */
import fs from "node:fs";
import { outcomeDifferences, outcomeLines, type Verdict } from "../../harness/report/verdict";

const files = process.argv.slice(2);
if (files.length !== 2 || files.some((f) => !fs.existsSync(f))) {
  console.error("usage: npm run compare:verdicts -- BEFORE/verdict.json AFTER/verdict.json (both must exist)");
  process.exit(2);
}
const [before, after] = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Verdict) as [Verdict, Verdict];
const differences = outcomeDifferences(before, after, ["before", "after"]);
console.log(
  differences.length
    ? `${differences.length} difference(s):\n  ${differences.join("\n  ")}`
    : `the same ${outcomeLines(before).length} outcomes: ${before.scenarios.length} scenarios, their assertion ids and statuses`,
);
process.exitCode = differences.length ? 1 : 0;
