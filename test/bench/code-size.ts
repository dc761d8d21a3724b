/**
 * The code's size where it matters for reading it: the longest functions of harness/ and assertions/ and the
 * longest source files (npm run size). Lines are counted from a function's first line to its last.
 * Usage: npm run size -- [--top N] [--max-function LINES] [--max-file LINES]; exits 1 when a limit is passed.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import ts from "typescript";

const ROOT = path.resolve(__dirname, "../../..");

interface Measured {
  where: string;
  name: string;
  lines: number;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
  });
}

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(source);
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(source).slice(0, 40)})`;
  return "(anonymous)";
}

function functionsOf(file: string): Measured[] {
  const text = fs.readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Measured[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({
        where: `${path.relative(ROOT, file)}:${first + 1}`,
        name: functionName(node, source),
        lines: last - first + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      top: { type: "string", default: "10" },
      "max-function": { type: "string" },
      "max-file": { type: "string" },
    },
  });
  const top = Number(values.top);
  const functions = ["harness", "assertions"]
    .flatMap((dir) => sourceFiles(path.join(ROOT, dir)))
    .flatMap(functionsOf)
    .sort((a, b) => b.lines - a.lines);
  const files = ["harness", "assertions", "scenarios", "services"]
    .flatMap((dir) => sourceFiles(path.join(ROOT, dir)))
    .map((file) => ({ file: path.relative(ROOT, file), lines: fs.readFileSync(file, "utf8").split("\n").length }))
    .sort((a, b) => b.lines - a.lines);
  process.stdout.write(`longest functions (harness/, assertions/):\n`);
  for (const f of functions.slice(0, top))
    process.stdout.write(`  ${String(f.lines).padStart(5)}  ${f.name}  ${f.where}\n`);
  process.stdout.write(`longest source files (harness/, assertions/, scenarios/, services/):\n`);
  for (const f of files.slice(0, top)) process.stdout.write(`  ${String(f.lines).padStart(5)}  ${f.file}\n`);
  const over: string[] = [];
  const maxFunction = values["max-function"] === undefined ? Infinity : Number(values["max-function"]);
  const maxFile = values["max-file"] === undefined ? Infinity : Number(values["max-file"]);
  for (const f of functions.filter((x) => x.lines > maxFunction))
    over.push(`${f.name} (${f.where}) has ${f.lines} lines, over ${maxFunction}`);
  for (const f of files.filter((x) => x.lines > maxFile)) over.push(`${f.file} has ${f.lines} lines, over ${maxFile}`);
  for (const line of over) process.stdout.write(`over the limit: ${line}\n`);
  return over.length ? 1 : 0;
}

process.exitCode = main();
