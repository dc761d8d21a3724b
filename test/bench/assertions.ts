import { performance } from "node:perf_hooks";
import { assertTraces } from "../../assertions/trace-assertions";
import type { Evidence } from "../../assertions/evidence";
import paymentsErrors from "../../scenarios/payments-errors";
import { buildEvidence, PAYMENTS_UNAVAILABLE, plainPlans } from "../fixtures/mesh-evidence";

/**
 * Benchmark: every trace assertion over 10,000 synthetic requests' traces (half checkouts with 8 spans, half product
 * lookups with 3; 1 in 10 checkouts failed so the error path is judged too). Target: <= 2 s.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const RUNS = 5;

const plans = plainPlans(REQUESTS).map((plan, i) => (i % 20 === 0 ? { ...plan, failure: PAYMENTS_UNAVAILABLE } : plan));
const evidence: Evidence = buildEvidence({ plans });
const spans = Object.values(evidence.traces).reduce((sum, t) => sum + (t?.spans.length ?? 0), 0);

const timesMs: number[] = [];
let failed = 0;
for (let run = 0; run < RUNS; run++) {
  const started = performance.now();
  const results = assertTraces(evidence, paymentsErrors.expectations);
  timesMs.push(performance.now() - started);
  failed = results.filter((r) => r.status === "failed").length;
}
timesMs.sort((a, b) => a - b);
const median = timesMs[Math.floor(RUNS / 2)]!;
process.stdout.write(
  [
    `trace assertions over ${REQUESTS} requests (${spans} spans), ${RUNS} runs`,
    `  median ${median.toFixed(0)} ms, min ${timesMs[0]!.toFixed(0)} ms, max ${timesMs.at(-1)!.toFixed(0)} ms (target <= 2000 ms)`,
    `  ${(REQUESTS / (median / 1000)).toFixed(0)} traces/s; failed assertions: ${failed} (expected 0)`,
    "",
  ].join("\n"),
);
if (median > 2000 || failed > 0) process.exitCode = 1;
