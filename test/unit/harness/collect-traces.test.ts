import type { Trace } from "../../../assertions/trace-model";
import type { TraceStore } from "../../../harness/backends";
import { collectTraces } from "../../../harness/evidence/collect-traces";

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
  test("a trace is settled when its span count is the same twice; late spans are waited for", async () => {
    const store = scriptedStore({ a: [3, 3], b: [0, 2, 5, 5] });
    const result = await collectTraces(store, ["a", "b"], { deadlineMs: 5_000 });
    expect(result.traces.a?.spans).toHaveLength(3);
    expect(result.traces.b?.spans).toHaveLength(5);
    expect(result.missing).toEqual([]);
    expect(result.passes).toBe(4);
    expect(store.queries).toBe(6); // a: 2 queries, b: 4
  });

  test("a trace never found by the deadline is reported missing, not thrown", async () => {
    const result = await collectTraces(scriptedStore({ gone: [0] }), ["gone"], { deadlineMs: 100 });
    expect(result.missing).toEqual(["gone"]);
    expect(result.traces.gone).toBeUndefined();
  });

  test("a store that keeps failing is an error naming the cause, not missing traces", async () => {
    const store = scriptedStore({ x: [new Error("connect ECONNREFUSED 127.0.0.1:16686")] });
    await expect(collectTraces(store, ["x"], { deadlineMs: 100 })).rejects.toThrow(
      /failed to answer for 1 of 1 trace ids .*ECONNREFUSED 127\.0\.0\.1:16686.*Jaeger log/,
    );
  });
});
