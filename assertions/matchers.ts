import type { AssertionResult } from "./evidence";
import { indexTrace } from "./trace-index";
import type { Trace } from "./trace-model";

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/** The parent id the edge's server span points at when the caller (the driver) exported no span. */
function inferredDriverParent(trace: Trace): string | undefined {
  const ids = new Set(trace.spans.map((s) => s.spanId));
  return trace.spans.find((s) => s.kind === "server" && s.parentSpanId !== undefined && !ids.has(s.parentSpanId))
    ?.parentSpanId;
}

/**
 * Jest matchers over the assertion functions. Register with `expect.extend(meshproofMatchers)`.
 *
 * - `expect(trace).toSpanServices(["gateway", "orders"])`: the trace's spans come from exactly these services.
 * - `expect(trace).toHaveNoOrphanSpans(driverParentSpanId?)`: every span's parent is in the trace (or is the root's
 *   driver parent; inferred from the edge server span when not given).
 * - `expect(results).toPassAssertions()`: every AssertionResult passed.
 * - `expect(results).toFailAssertion("traces.no-orphans")`: the result with this id failed.
 */
export const meshproofMatchers = {
  toSpanServices(received: Trace, services: string[]): MatcherResult {
    const actual = [...new Set(received.spans.map((s) => s.service))].sort();
    const expected = [...new Set(services)].sort();
    const pass = actual.join() === expected.join();
    return {
      pass,
      message: () =>
        `expected trace ${received.traceId} ${pass ? "not " : ""}to span [${expected.join(", ")}], it spans [${actual.join(", ")}]`,
    };
  },

  toHaveNoOrphanSpans(received: Trace, driverParentSpanId?: string): MatcherResult {
    const { orphans } = indexTrace(received, driverParentSpanId ?? inferredDriverParent(received));
    const pass = orphans.length === 0;
    const listed = orphans.map((s) => `${s.service} ${s.kind} "${s.name}" (parent ${s.parentSpanId})`).join(", ");
    return {
      pass,
      message: () =>
        pass
          ? `expected trace ${received.traceId} to have orphan spans, it has none`
          : `expected trace ${received.traceId} to have no orphan spans, found ${listed}`,
    };
  },

  toPassAssertions(received: AssertionResult[]): MatcherResult {
    const failed = received.filter((r) => r.status !== "passed");
    return {
      pass: failed.length === 0 && received.length > 0,
      message: () =>
        received.length === 0
          ? "expected assertion results, got none"
          : failed.length
            ? `expected all ${received.length} assertions to pass; failed:\n${failed.map((r) => `  ${r.id}: ${r.message}`).join("\n")}`
            : `expected some of ${received.length} assertions to fail, all passed`,
    };
  },

  toFailAssertion(received: AssertionResult[], id: string): MatcherResult {
    const result = received.find((r) => r.id === id);
    const pass = result?.status === "failed";
    return {
      pass,
      message: () =>
        !result
          ? `expected assertion ${id} to fail, it was not evaluated (ids: ${received.map((r) => r.id).join(", ")})`
          : `expected assertion ${id} ${pass ? "not " : ""}to fail; it ${result.status}: ${result.message}`,
    };
  },
};

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      toSpanServices(services: string[]): R;
      toHaveNoOrphanSpans(driverParentSpanId?: string): R;
      toPassAssertions(): R;
      toFailAssertion(id: string): R;
    }
  }
}
