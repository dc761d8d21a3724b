import type { AssertionResult } from "../evidence";
import { Findings, verdict } from "../result";
import type { RunView } from "../run-view";
import { METRIC_ASSERTIONS } from "./ids";

/** Every response that is not its route's success falls in the window of a journaled fault on its route. */
export function unexplainedFailures(view: RunView): AssertionResult {
  const findings = new Findings();
  const explained: Record<string, number> = {};
  let failed = 0;
  for (const r of view.requests) {
    if (r.success) continue;
    failed++;
    if (r.explanation) {
      explained[r.explanation.fault.target] = (explained[r.explanation.fault.target] ?? 0) + 1;
      continue;
    }
    findings.add({
      detail: `${r.request.route} answered ${r.request.status || `nothing (${r.request.error ?? "no response"})`} at +${Math.round(r.request.startMs - view.evidence.window.startMs)} ms with no journaled fault on its route in that window`,
      traceId: r.traceId,
      requestId: r.request.id,
    });
  }
  const plan = view.evidence.plan.requests;
  return verdict(
    METRIC_ASSERTIONS.unexplainedFailures,
    "metrics",
    findings,
    {
      passed: `${failed} failed responses are each explained by a journaled fault on their route (${JSON.stringify(explained)})`,
      failed: `${findings.count} of ${failed} failed responses have no fault to explain them`,
    },
    { compared: view.requests.length, minimum: plan, what: "requests", because: `the plan's ${plan} requests` },
    { unexplained: 0 },
    { failed, explained, unexplained: findings.count },
  );
}
