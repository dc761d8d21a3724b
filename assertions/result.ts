import type { AssertionFamily, AssertionResult } from "./evidence";

/**
 * One thing an assertion found wrong, pointing at the request and trace it saw it in. Where it compared two values,
 * `expected`, `observed` and `on` (what was compared: a service's series, a hop, a route) give its one-line headline
 * ("expected 8 on UNAVAILABLE, observed 0, on payments grpc server counter"); `service` names the service it is about
 * (failures about the same service may explain each other).
 */
export interface Finding {
  detail: string;
  traceId?: string | undefined;
  requestId?: string | undefined;
  expected?: string;
  observed?: string;
  on?: string;
  service?: string;
  /** Which of the service's counters it is about, when one side's: "payments server", "orders client". */
  side?: "server" | "client";
  /** Other services' sides it is about too (a hop's callers: "orders client"). */
  counterparts?: string[];
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

/**
 * How much an assertion compared against how much the scenario implies it must: `compared` items of `what`, at least
 * `minimum` (and, for a known number, `expected` exactly) — comparing fewer is a failure, never a pass over nothing.
 */
export interface Coverage {
  compared: number;
  minimum: number;
  /** What one item is ("requests", "hops", "series"). */
  what: string;
  /** Why the minimum is what it is ("the driver's 160 requests"). */
  because: string;
}

/**
 * The one place a result is built. Passed when nothing was found and the coverage holds; else failed with a message
 * listing a sample of findings. Every message says how many items were compared.
 */
export function verdict(
  id: string,
  family: AssertionFamily,
  findings: Findings,
  text: { passed: string; failed: string },
  coverage: Coverage,
  expected: Record<string, unknown>,
  observed: Record<string, unknown>,
): AssertionResult {
  const compared = `compared ${coverage.compared} ${coverage.what}`;
  const base = {
    id,
    family,
    expected: { ...expected, compared: `>= ${coverage.minimum} (${coverage.because})` },
    observed: { ...observed, compared: coverage.compared },
  };
  if (coverage.compared < coverage.minimum || coverage.minimum <= 0) {
    // Too little compared is the first thing to say: the other findings may only be its consequences.
    const short = { detail: `${compared}, expected at least ${Math.max(1, coverage.minimum)} (${coverage.because})` };
    findings.count++;
    findings.samples.unshift(short);
    if (findings.samples.length > SAMPLE_SIZE) findings.samples.pop();
  }
  if (findings.count === 0) return { ...base, status: "passed", message: `${text.passed} (${compared})` };
  const shown = findings.samples.slice(0, MESSAGE_SAMPLES).map(describe).join("; ");
  const more = findings.count > MESSAGE_SAMPLES ? `; and ${findings.count - MESSAGE_SAMPLES} more` : "";
  const traceIds = unique(findings.samples.map((f) => f.traceId));
  const requestIds = unique(findings.samples.map((f) => f.requestId));
  const services = unique(
    findings.samples.flatMap((f) => [
      f.service,
      f.service && f.side ? `${f.service} ${f.side}` : undefined,
      ...(f.counterparts ?? []),
    ]),
  );
  return {
    ...base,
    status: "failed",
    message: `${text.failed} (${compared}): ${shown}${more}`,
    headline: headlineOf(findings),
    evidence: {
      ...(traceIds.length ? { traceIds } : {}),
      ...(requestIds.length ? { requestIds } : {}),
      ...(services.length ? { services } : {}),
      sample: findings.samples.map((f) => f.detail),
    },
  };
}

/**
 * A failed assertion in one line, no JSON: its first finding as "expected X, observed Y, on Z" where it compared two
 * values, else as it was told; "(and N more)" when there were others.
 */
function headlineOf(findings: Findings): string {
  const first = findings.samples.find((f) => f.expected !== undefined) ?? findings.samples[0]!;
  const told =
    first.expected !== undefined
      ? `expected ${first.expected}, observed ${first.observed ?? "nothing"}${first.on ? `, on ${first.on}` : ""}`
      : first.detail;
  return findings.count > 1 ? `${told} (and ${findings.count - 1} more)` : told;
}

/**
 * A claim the mesh does not promise, so it was neither passed nor failed: `reason` names what is missing and where it
 * would be declared ("no service declares a readable structured log (services.<name>.logFile)"). Compares nothing.
 */
export function notPromised(
  id: string,
  family: AssertionFamily,
  reason: string,
  observed: Record<string, unknown> = {},
): AssertionResult {
  return {
    id,
    family,
    status: "not-promised",
    message: `not promised: ${reason}`,
    expected: { promised: false },
    observed: { ...observed, compared: 0 },
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
