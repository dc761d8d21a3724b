import type { AssertionFamily, AssertionResult } from "./evidence";

/** One thing an assertion found wrong, pointing at the request and trace it saw it in. */
export interface Finding {
  detail: string;
  traceId?: string;
  requestId?: string;
}

const SAMPLE_SIZE = 10;
const MESSAGE_SAMPLES = 3;

/** Collects findings: counts all, keeps a small sample for the message and the verdict. */
export class Findings {
  count = 0;
  readonly samples: Finding[] = [];

  add(finding: Finding): void {
    this.count++;
    if (this.samples.length < SAMPLE_SIZE) this.samples.push(finding);
  }
}

/** The one place a result is built: passed when nothing was found, else a message listing a sample of findings. */
export function verdict(
  id: string,
  family: AssertionFamily,
  findings: Findings,
  text: { passed: string; failed: string },
  expected: unknown,
  observed: unknown,
): AssertionResult {
  if (findings.count === 0) return { id, family, status: "passed", message: text.passed, expected, observed };
  const shown = findings.samples.slice(0, MESSAGE_SAMPLES).map(describe).join("; ");
  const more = findings.count > MESSAGE_SAMPLES ? `; and ${findings.count - MESSAGE_SAMPLES} more` : "";
  const traceIds = unique(findings.samples.map((f) => f.traceId));
  const requestIds = unique(findings.samples.map((f) => f.requestId));
  return {
    id,
    family,
    status: "failed",
    message: `${text.failed}: ${shown}${more}`,
    expected,
    observed,
    evidence: {
      ...(traceIds.length ? { traceIds } : {}),
      ...(requestIds.length ? { requestIds } : {}),
      sample: findings.samples.map((f) => f.detail),
    },
  };
}

function describe(finding: Finding): string {
  const where = [finding.traceId && `trace ${finding.traceId}`, finding.requestId && `request ${finding.requestId}`];
  const located = where.filter(Boolean).join(", ");
  return located ? `${finding.detail} (${located})` : finding.detail;
}

function unique(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))];
}
