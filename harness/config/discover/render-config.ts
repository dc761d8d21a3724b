import type { Draft, KeyPath, Notes } from "./draft";

const WIDTH = 120;
const INDENT = "  ";

/**
 * The draft as a meshproof.config.ts: defineConfig() imported from `importPath`, the header as its doc comment,
 * each note as a `//` comment above its key (guesses) or closing its object (fill-ins), formatted as prettier would
 * (width 120, two spaces, trailing commas), so the file reads like a hand-written one.
 */
export function renderConfig(draft: Draft, importPath: string): string {
  const header = ["/**", ...draft.header.map((line) => ` * ${line}`.trimEnd()), " */"].join("\n");
  const body = renderValue(draft.config, [], 0, draft.notes, "export default defineConfig(".length);
  return `import { defineConfig } from ${JSON.stringify(importPath)};\n\n${header}\nexport default defineConfig(${body});\n`;
}

/** A value starting `lead` characters into a line indented `depth` levels. */
function renderValue(value: unknown, path: KeyPath, depth: number, notes: Notes, lead: number): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inline = inlineValue(value);
  const pad = INDENT.repeat(depth);
  if (!notes.covers(path) && pad.length + lead + inline.length + 2 <= WIDTH) return inline;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const inner = INDENT.repeat(depth + 1);
  const lines: string[] = [];
  for (const [key, v] of entries) {
    const at = [...path, key];
    lines.push(...comments(notes.aboveOf(at), inner));
    const label = typeof key === "number" ? "" : `${propertyName(key)}: `;
    lines.push(`${inner}${label}${renderValue(v, at, depth + 1, notes, label.length)},`);
  }
  lines.push(...comments(notes.tailOf(path), inner));
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return lines.length ? `${open}\n${lines.join("\n")}\n${pad}${close}` : `${open}${close}`;
}

function inlineValue(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inlineValue).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (!entries.length) return "{}";
  return `{ ${entries.map(([k, v]) => `${propertyName(k)}: ${inlineValue(v)}`).join(", ")} }`;
}

function propertyName(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

/** Notes as `//` lines, wrapped at the width with continuation lines indented. */
function comments(texts: readonly string[], indent: string): string[] {
  return texts.flatMap((text) => {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
      const room = WIDTH - indent.length - (lines.length ? 5 : 3);
      if (line && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    return lines.map((l, i) => `${indent}//${i ? "   " : " "}${l}`);
  });
}
