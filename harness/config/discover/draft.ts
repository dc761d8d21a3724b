import type { TelemetryContract } from "../../../assertions/contract";
import type { MeshConfig } from "../mesh-config";

/** A key path into the config: ["services", "frontend", "url"], ["routes", "GET /dispatch", "hops", 2]. */
export type KeyPath = readonly (string | number)[];

/**
 * The comments of a draft config, by the key they belong to: above a key (why a value is what it is) or at the end
 * of an object (what init could not discover and the user fills in).
 */
export class Notes {
  private readonly above = new Map<string, string[]>();
  private readonly tail = new Map<string, string[]>();

  /** `// guess: TEXT` above the key: a value init guessed, and what from. */
  guess(path: KeyPath, text: string): void {
    this.add(this.above, path, `guess: ${text}`);
  }

  /** `// TEXT` above the key: a fact about it that is no guess. */
  say(path: KeyPath, text: string): void {
    this.add(this.above, path, text);
  }

  /** `// fill in: TEXT` at the end of the object at path: what could not be discovered. */
  fillIn(path: KeyPath, text: string): void {
    this.add(this.tail, path, `fill in: ${text}`);
  }

  aboveOf(path: KeyPath): readonly string[] {
    return this.above.get(JSON.stringify(path)) ?? [];
  }

  tailOf(path: KeyPath): readonly string[] {
    return this.tail.get(JSON.stringify(path)) ?? [];
  }

  /** Whether a comment goes inside the object at path: one closing it, or one on a key below it. */
  covers(path: KeyPath): boolean {
    const key = JSON.stringify(path);
    const below = key === "[]" ? "[" : `${key.slice(0, -1)},`;
    return this.tail.has(key) || [...this.above.keys(), ...this.tail.keys()].some((k) => k.startsWith(below));
  }

  /** How many guesses and fill-ins the draft carries (for the CLI's summary). */
  counts(): { guesses: number; fillIns: number } {
    const all = (m: Map<string, string[]>) => [...m.values()].flat();
    return {
      guesses: all(this.above).filter((t) => t.startsWith("guess:")).length,
      fillIns: all(this.tail).length,
    };
  }

  private add(map: Map<string, string[]>, path: KeyPath, text: string): void {
    const key = JSON.stringify(path);
    map.set(key, [...(map.get(key) ?? []), text]);
  }
}

/** What init writes: a config, the contract files it names, and the comments on both. */
export interface Draft {
  config: MeshConfig;
  /** Contract files to write beside the config, by file name ("contract.json"). */
  contracts: Record<string, TelemetryContract>;
  notes: Notes;
  /** The config's header comment, one line per entry. */
  header: string[];
}
