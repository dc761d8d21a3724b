import os from "node:os";

/**
 * What a cpu fault of `fraction` can be expected to add to a process's CPU rate on this machine now: the fraction,
 * or less when the machine is oversubscribed (a busy thread gets about cores / load average of a core; the machine
 * the tests run on has 2 cores shared with other work). Tests accept 0.8 of that, and at most the fraction plus
 * 0.15 (the duty cycle holds: no more than asked for).
 */
export function burnBounds(fraction: number): { atLeast: number; atMost: number; share: number; load: string } {
  const [load1 = 0] = os.loadavg();
  const share = Math.min(1, os.availableParallelism() / Math.max(load1, 1));
  return {
    atLeast: 0.8 * Math.min(fraction, share),
    atMost: fraction + 0.15,
    share,
    load: `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on ${os.availableParallelism()} cores`,
  };
}

/** Whether a measured rise of the CPU rate (cores) is within burnBounds. */
export function burnWithin(rise: number, bounds: { atLeast: number; atMost: number }): boolean {
  return rise >= bounds.atLeast && rise <= bounds.atMost;
}
