import type { Tally } from "../metric-view";

/** A tally under new keys: `fn` renames each key (undefined drops it), values of keys renamed alike add up. */
export function rekey(tally: Tally, fn: (key: string) => string | undefined): Tally {
  const out: Tally = new Map();
  for (const [key, value] of tally) {
    const k = fn(key);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + value);
  }
  return out;
}
