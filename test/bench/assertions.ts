import { performance } from "node:perf_hooks";
import { evaluate } from "../../assertions/evaluate";
import type { Evidence, RequestRecord } from "../../assertions/evidence";
import type { Trace } from "../../assertions/trace-model";
import { scenarioFixture } from "../support/evidence-fixture";

/**
 * Benchmark: every trace assertion over ~10,000 requests' traces, made by replicating the real payments-errors
 * evidence of the fixture (its checkouts, product lookups and failures) under fresh ids. Target: <= 2 s.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const RUNS = 5;

const { evidence: run, expectations } = scenarioFixture("payments-errors");
const copies = Math.ceil(REQUESTS / run.requests.length);
const requests: RequestRecord[] = [];
const traces: Record<string, Trace> = {};
for (let c = 0; c < copies; c++) {
  for (const r of run.requests) {
    const traceId = `${c.toString(16).padStart(4, "0")}${r.traceId.slice(4)}`;
    const id = `${r.id}-${c}`;
    requests.push({ ...r, id, traceId });
    const trace = run.traces[r.traceId]!;
    traces[traceId] = {
      traceId,
      spans: trace.spans.map((s) => ({
        ...s,
        traceId,
        attributes:
          s.attributes["meshproof.request_id"] === undefined
            ? s.attributes
            : { ...s.attributes, "meshproof.request_id": id },
      })),
    };
  }
}
const evidence: Evidence = { ...run, requests, traces, plan: { ...run.plan, requests: requests.length } };
const spans = Object.values(traces).reduce((sum, t) => sum + t.spans.length, 0);

const timesMs: number[] = [];
let failed: string[] = [];
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const results = evaluate(evidence, { ...expectations, families: ["traces"] });
  timesMs.push(performance.now() - started);
  failed = results.filter((r) => r.status === "failed").map((r) => r.id);
}
timesMs.sort((a, b) => a - b);
const median = timesMs[Math.floor(RUNS / 2)]!;
process.stdout.write(
  [
    `trace assertions over ${requests.length} requests (${spans} spans), ${RUNS} runs`,
    `  median ${median.toFixed(0)} ms, min ${timesMs[0]!.toFixed(0)} ms, max ${timesMs.at(-1)!.toFixed(0)} ms (target <= 2000 ms)`,
    `  ${(requests.length / (median / 1000)).toFixed(0)} traces/s; failed assertions: ${failed.join(", ") || "none"} (expected none)`,
    "",
  ].join("\n"),
);
if (median > 2000 || failed.length > 0) process.exitCode = 1;
