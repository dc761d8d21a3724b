import type { FaultRecord, RequestRecord } from "../../../assertions/evidence";
import { expectedSpans, spanCountRange } from "../../../assertions/trace-shape";
import type { Trace } from "../../../assertions/trace-model";
import type { TraceStore } from "../../../harness/backends";
import { expectedTraces } from "../../../harness/evidence/collect-evidence";
import { collectTraces } from "../../../harness/evidence/collect-traces";
import { MESH_TOPOLOGY } from "../../../scenarios/lib/sample-topology";

function trace(id: string, spans: number): Trace {
  return {
    traceId: id,
    spans: Array.from({ length: spans }, (_, i) => ({
      traceId: id,
      spanId: `s${i}`,
      service: "gateway",
      name: "GET",
      kind: "server" as const,
      startTimeUs: 0,
      durationUs: 1,
      status: "unset" as const,
      attributes: {},
    })),
  };
}

/** A store whose answers per trace id follow a script, one entry per query (the last one repeats). */
function scriptedStore(script: Record<string, (number | Error)[]>): TraceStore & { queries: number } {
  const seen = new Map<string, number>();
  const store = {
    queries: 0,
    async getTrace(id: string) {
      store.queries++;
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      const answers = script[id] ?? [0];
      const answer = answers[Math.min(n, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer === 0 ? undefined : trace(id, answer);
    },
    async findTraces() {
      return [];
    },
  };
  return store;
}

describe("collectTraces", () => {
  test("waits until each trace has the spans its request implies, then confirms the count an interval later", async () => {
    const store = scriptedStore({ a: [3, 3], b: [0, 2, 5, 5] });
    const result = await collectTraces(
      store,
      [
        { traceId: "a", minSpans: 3 },
        { traceId: "b", minSpans: 5 },
      ],
      { deadlineMs: 5_000, exportIntervalMs: 50 },
    );
    expect(result.traces.a?.spans).toHaveLength(3);
    expect(result.traces.b?.spans).toHaveLength(5);
    expect(result.short).toEqual([]);
    // a: arrives in pass 1; b: passes 1-3; then one confirming pass of both.
    expect(result.passes).toBe(4);
    expect(store.queries).toBe(1 + 3 + 2);
    expect(result.settledMs).toBeGreaterThanOrEqual(50);
  });

  test("a trace that grows between the confirming reads is read again until stable", async () => {
    const store = scriptedStore({ a: [2, 3, 3] });
    const result = await collectTraces(store, [{ traceId: "a", minSpans: 2 }], {
      deadlineMs: 5_000,
      exportIntervalMs: 20,
    });
    expect(result.traces.a?.spans).toHaveLength(3);
    expect(store.queries).toBe(3);
  });

  test("a trace short of its expected spans at the deadline is reported short, not thrown", async () => {
    const result = await collectTraces(
      scriptedStore({ gone: [0], partial: [1] }),
      [
        { traceId: "gone", minSpans: 4 },
        { traceId: "partial", minSpans: 4 },
      ],
      { deadlineMs: 100, exportIntervalMs: 10 },
    );
    expect(result.short.sort()).toEqual(["gone", "partial"]);
    expect(result.traces.gone).toBeUndefined();
    expect(result.traces.partial?.spans).toHaveLength(1);
  });

  test("a trace expected absent (unsampled) is read once, in the confirming pass", async () => {
    const store = scriptedStore({ quiet: [0] });
    const result = await collectTraces(store, [{ traceId: "quiet", minSpans: 0 }], { deadlineMs: 1_000 });
    expect(result.traces.quiet).toBeUndefined();
    expect(result.short).toEqual([]);
    expect(store.queries).toBe(1);
  });

  test("a store that keeps failing is an error naming the cause, not missing traces", async () => {
    const store = scriptedStore({ x: [new Error("connect ECONNREFUSED 127.0.0.1:16686")] });
    await expect(collectTraces(store, [{ traceId: "x", minSpans: 1 }], { deadlineMs: 100 })).rejects.toThrow(
      /failed to answer for 1 of 1 trace ids .*ECONNREFUSED 127\.0\.0\.1:16686.*Jaeger log/,
    );
  });
});

describe("expectedTraces", () => {
  const checkout = MESH_TOPOLOGY["POST /api/checkout"]!;
  const full = spanCountRange(expectedSpans(checkout, "gateway", undefined)).min;
  const request = (id: string, startMs: number, status = 200): RequestRecord => ({
    id,
    traceId: id,
    route: "POST /api/checkout",
    startMs,
    endMs: startMs + 30,
    status,
  });
  test("a request under way while a killed process's spans could still die with it is not waited on for them", () => {
    const kill: FaultRecord = {
      id: "f",
      kind: "kill",
      target: "payments",
      params: {},
      appliedAtMs: 2_000,
      revertedAtMs: 4_000,
      spansLostFromMs: 1_000,
    };
    const [before, lost] = expectedTraces(
      [request("a", 500), request("b", 1_500)],
      MESH_TOPOLOGY,
      [kill],
      8_000,
      "gateway",
    );
    expect(before).toEqual({ traceId: "a", minSpans: full });
    // payments' server span of Charge is the one it can lose.
    expect(lost).toEqual({ traceId: "b", minSpans: full - 1 });
  });
});
