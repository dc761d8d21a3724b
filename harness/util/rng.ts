import type { Rng } from "../../assertions/mutation";

export type { Rng } from "../../assertions/mutation";

/**
 * mulberry32: small, fast, and the same sequence for the same seed on every platform. The mesh's services use the
 * same generator for their fault decisions (services/lib/faults.ts; a unit test keeps the two equal).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The harness's seeded PRNG (load mix, mutants): the same seed gives the same run. */
export function createRng(seed: number): Rng {
  const next = seededRandom(seed);
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}
