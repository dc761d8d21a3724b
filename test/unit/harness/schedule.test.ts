import { setTimeout as sleep } from "node:timers/promises";
import { schedule } from "../../../harness/run/schedule";

/** Tasks that take `ms` each and record what ran at the same time. */
function recorder(ms: readonly number[]) {
  const running = new Set<number>();
  const overlaps: number[][] = [];
  const started: number[] = [];
  const run = async (i: number) => {
    started.push(i);
    running.add(i);
    overlaps.push([...running].sort());
    await sleep(ms[i]!);
    running.delete(i);
    return `r${i}`;
  };
  return { run, overlaps, started };
}

describe("the scenario schedule (--workers)", () => {
  test("one worker runs every task in order, one at a time, whatever it is", async () => {
    const { run, overlaps, started } = recorder([5, 5, 5]);
    const reported: number[] = [];
    const results = await schedule(
      [{ alone: false }, { alone: true }, { alone: false }],
      1,
      run,
      (_, i) => void reported.push(i),
    );
    expect(results).toEqual(["r0", "r1", "r2"]);
    expect(started).toEqual([0, 1, 2]);
    expect(overlaps.every((o) => o.length === 1)).toBe(true);
    expect(reported).toEqual([0, 1, 2]);
  });

  test("workers run shared tasks at once, never more than asked, an alone one with no other; reported in order", async () => {
    // Task 0 is slow and shared, task 2 alone: 1, 3, 4 finish before 0, but are reported after it.
    const { run, overlaps } = recorder([60, 5, 5, 5, 5]);
    const reported: number[] = [];
    const results = await schedule(
      [{ alone: false }, { alone: false }, { alone: true }, { alone: false }, { alone: false }],
      2,
      run,
      async (result, i) => {
        await sleep(1);
        reported.push(i);
        expect(result).toBe(`r${i}`);
      },
    );
    expect(results).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(reported).toEqual([0, 1, 2, 3, 4]);
    expect(Math.max(...overlaps.map((o) => o.length))).toBe(2);
    expect(overlaps.filter((o) => o.includes(2))).toEqual([[2]]);
    expect(overlaps.some((o) => o.length === 2)).toBe(true);
  });

  test("after an abort no task starts; what ran is reported, in order", async () => {
    const controller = new AbortController();
    const reported: number[] = [];
    const results = await schedule(
      [{ alone: false }, { alone: true }, { alone: false }],
      2,
      async (i) => {
        if (i === 1) controller.abort();
        return i;
      },
      (_, i) => void reported.push(i),
      controller.signal,
    );
    // The alone task (1) runs first and aborts: nothing else starts.
    expect(results).toEqual([1]);
    expect(reported).toEqual([1]);
  });
});
