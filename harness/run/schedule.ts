/** One task of a schedule: whether it must run with no other. */
export interface Schedulable {
  alone: boolean;
}

/**
 * Runs every task, at most `workers` at once; a task marked alone runs with no other (those go first, one after
 * another, then the rest share the workers in order). One worker runs the tasks in their order. Each result is handed to `onResult` in the tasks' order as soon
 * as it and every earlier one are done, so what is reported reads as a serial run. After the signal aborts no task
 * starts; the ones running finish.
 */
export async function schedule<T>(
  tasks: readonly Schedulable[],
  workers: number,
  run: (index: number) => Promise<T>,
  onResult: (result: T, index: number) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<T[]> {
  const results = new Map<number, T>();
  let reported = 0;
  let reporting = Promise.resolve();
  const settle = (index: number, result: T) => {
    results.set(index, result);
    // Reports chain: each waits for the one before, in the tasks' order.
    reporting = reporting.then(async () => {
      while (results.has(reported)) {
        await onResult(results.get(reported)!, reported);
        reported++;
      }
    });
  };
  const indices = tasks.map((_, i) => i);
  const alone = workers > 1 ? indices.filter((i) => tasks[i]!.alone) : indices;
  const shared = workers > 1 ? indices.filter((i) => !tasks[i]!.alone) : [];
  for (const index of alone) {
    if (signal?.aborted) break;
    settle(index, await run(index));
  }
  let next = 0;
  const worker = async () => {
    while (next < shared.length && !signal?.aborted) {
      const index = shared[next++]!;
      settle(index, await run(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, shared.length) }, worker));
  await reporting;
  // An abort leaves gaps: what did run is still reported, in order.
  const done = [...results.keys()].sort((a, b) => a - b);
  for (const index of done.filter((i) => i >= reported)) await onResult(results.get(index)!, index);
  return done.map((i) => results.get(i)!);
}
