import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors";
import { summarize, type MutantResult, type MutationReport } from "./engine";
import { OPERATORS } from "./operators";

/** What `npm run mutate` hands each worker thread. */
export interface PoolWorkerInput {
  file: string;
  perOperator: number;
  seed: number;
}

/** One unit of work: every mutant of one operator over one scenario (indices into the file and OPERATORS). */
export interface PoolItem {
  scenario: number;
  operator: number;
}

export type PoolWorkerMessage =
  | { type: "ready"; scenarios: { name: string; size: number }[] }
  | { type: "done"; item: PoolItem; results: MutantResult[]; skipped?: string }
  | { type: "error"; message: string };

/** Memory a mutation worker may need at least: a thread's heap and the operators' working copies. */
export const WORKER_BASE_BYTES = 256 * 2 ** 20;
/**
 * Memory per worker for each byte of the evidence file: every worker parses the whole file and keeps its request
 * views and indexed traces. Measured: --jobs 8 on a 38 MB evidence file used 2.14 GB (about 270 MB a worker, 7x the
 * file); 8x leaves a margin.
 */
export const WORKER_BYTES_PER_EVIDENCE_BYTE = 8;

/** The memory one worker is allowed on an evidence file of this size. */
export function workerAllowanceBytes(evidenceBytes: number): number {
  return Math.max(WORKER_BASE_BYTES, WORKER_BYTES_PER_EVIDENCE_BYTE * evidenceBytes);
}

/**
 * The worker count to run: the asked one, lowered so that the workers' allowances fit in the free memory (never
 * below 1: one worker is the least that does the work). `reason` says why when it lowers it.
 */
export function capJobsByMemory(
  asked: number,
  freeBytes: number,
  perWorkerBytes: number,
): { jobs: number; reason?: string } {
  const fits = Math.max(1, Math.floor(freeBytes / perWorkerBytes));
  if (fits >= asked) return { jobs: asked };
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
  return {
    jobs: fits,
    reason: `${asked} worker(s) asked, ${fits} run: ${mb(freeBytes)} free memory / ${mb(perWorkerBytes)} allowed per worker`,
  };
}

/**
 * runMutations() spread over `jobs` worker threads (default: one per core). Each worker reads the evidence file
 * itself, then takes (scenario, operator) items from a queue, largest scenarios first, until none is left: a mutant's
 * picks depend only on the seed, its scenario and its operator, so the results (kept in catalog order) are the same
 * for any number of workers. A file that cannot be read is a ConfigError naming it.
 */
export async function mutateInWorkers(
  file: string,
  options: { perOperator: number; seed: number; jobs?: number },
): Promise<{ report: MutationReport; results: MutantResult[]; scenarios: number }> {
  const started = performance.now();
  const jobs = Math.max(1, options.jobs ?? os.availableParallelism());
  const input: PoolWorkerInput = { file, perOperator: options.perOperator, seed: options.seed };
  const workers = Array.from(
    { length: jobs },
    () => new Worker(path.join(__dirname, "pool-worker.js"), { workerData: input }),
  );
  try {
    const byItem = new Map<string, MutantResult[]>();
    const skipped = new Map<number, { scenario: string; reason: string }>();
    let names: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let queue: PoolItem[] | undefined;
      let busy = 0;
      const next = (worker: Worker) => {
        const item = queue!.shift();
        if (item) {
          busy++;
          worker.postMessage(item);
        } else if (busy === 0) resolve();
      };
      for (const worker of workers) {
        worker.on("message", (message: PoolWorkerMessage) => {
          if (message.type === "error") return reject(new ConfigError(message.message));
          if (message.type === "ready") {
            if (!queue) {
              names = message.scenarios.map((s) => s.name);
              const order = message.scenarios.map((s, i) => ({ ...s, i })).sort((a, b) => b.size - a.size);
              queue = order.flatMap((s) => OPERATORS.map((_, operator) => ({ scenario: s.i, operator })));
            }
            return next(worker);
          }
          busy--;
          if (message.skipped)
            skipped.set(message.item.scenario, { scenario: names[message.item.scenario]!, reason: message.skipped });
          byItem.set(`${message.item.scenario}/${message.item.operator}`, message.results);
          next(worker);
        });
        worker.once("error", reject);
        worker.once("exit", (code) =>
          reject(new Error(`a mutation worker exited with code ${code} before the work was done`)),
        );
      }
    });
    const results = names.flatMap((_, s) => OPERATORS.flatMap((_, o) => byItem.get(`${s}/${o}`) ?? []));
    const skips = [...skipped.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
    return {
      ...summarize(results, skips, OPERATORS, options.perOperator, performance.now() - started),
      scenarios: names.length,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
