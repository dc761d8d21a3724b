import type { AssertionResult, Evidence, ProbeRecord } from "./evidence";
import type { ReadinessFlip } from "./expectations";
import { Findings, verdict, type Coverage } from "./result";
import type { RunView } from "./run-view";

/** Stable ids of the probes family. */
export const PROBE_ASSERTIONS = {
  readinessFlip: "probes.readiness-flip",
  livenessStable: "probes.liveness-stable",
  baselineHealthy: "probes.baseline-healthy",
} as const;

function describePoll(poll: ProbeRecord): string {
  return `${poll.service} /${poll.probe} answered ${poll.status || `nothing (${poll.error ?? "no response"})`} at +${poll.atMs}`;
}

/**
 * Family "probes": /healthz of every service answers 200 throughout the run; /readyz answers 200 except where a fault
 * must flip it, and there it turns 503 naming the failed check within the bound (check timeout + poll interval +
 * slack) and returns to 200 within the same bound after the revert. The measured flip latencies are in `observed`.
 */
export function assertProbes(view: RunView): AssertionResult[] {
  const { evidence, expectations } = view;
  const { readinessFlips = [], checkTimeoutMs = 1000, pollIntervalMs = 100, slackMs = 500 } = expectations.probes ?? {};
  const boundMs = checkTimeoutMs + pollIntervalMs + slackMs;
  const boundText = `${boundMs} ms = check timeout ${checkTimeoutMs} + poll interval ${pollIntervalMs} + slack ${slackMs}`;
  const after = evidence.probes.filter((p) => p.atMs >= evidence.window.startMs).sort((a, b) => a.atMs - b.atMs);
  const polls = (service: string, probe: ProbeRecord["probe"]) =>
    after.filter((p) => p.service === service && p.probe === probe);

  const flipFindings = new Findings();
  const flips: Record<string, unknown> = {};
  /** Per service, the intervals in which /readyz may answer 503. */
  const excused = new Map<string, [number, number][]>();
  for (const flip of readinessFlips) {
    const result = judgeFlip(evidence, flip, polls(flip.service, "readyz"), boundMs, (detail) =>
      flipFindings.add({ detail }),
    );
    flips[`${flip.service} ${flip.check} (${flip.fault})`] = result.observed;
    if (result.excuse) excused.set(flip.service, [...(excused.get(flip.service) ?? []), result.excuse]);
  }

  const live = new Findings();
  const ready = new Findings();
  for (const service of evidence.services) {
    for (const [probe, findings] of [
      ["healthz", live],
      ["readyz", ready],
    ] as const) {
      const list = polls(service.name, probe);
      if (!list.length) findings.add({ detail: `no /${probe} poll of ${service.name} after load start` });
      const windows = probe === "readyz" ? (excused.get(service.name) ?? []) : [];
      // A poll is excused by when it was answered as much as by when it was sent: one in flight when the fault took
      // effect (the journal's applied-at is the moment Toxiproxy or the admin API confirmed it) answers its 503 after.
      const bad = list.filter(
        (p) => p.status !== 200 && !windows.some(([from, to]) => p.atMs + p.latencyMs >= from && p.atMs <= to),
      );
      if (bad[0])
        findings.add({ detail: `${bad.length} of ${list.length} polls not 200, first: ${describePoll(bad[0])}` });
    }
  }
  const pollCount = (probe: string) => after.filter((p) => p.probe === probe).length;
  // The poller runs from before load to quiesce: at least half its ticks over the load window, per service.
  const windowMs = evidence.window.endMs - evidence.window.startMs;
  const minimumPolls = Math.max(1, Math.floor(windowMs / pollIntervalMs / 2)) * evidence.services.length;
  const coverage = (probe: string): Coverage => ({
    compared: pollCount(probe),
    minimum: minimumPolls,
    what: `/${probe} polls`,
    because: `half the ${pollIntervalMs} ms ticks of a ${windowMs} ms window for ${evidence.services.length} services`,
  });
  const results = [
    verdict(
      PROBE_ASSERTIONS.livenessStable,
      "probes",
      live,
      {
        passed: `/healthz of every service answered 200 in all ${pollCount("healthz")} polls`,
        failed: "/healthz was not 200 throughout",
      },
      coverage("healthz"),
      { status: 200 },
      { polls: pollCount("healthz"), findings: live.count },
    ),
    verdict(
      PROBE_ASSERTIONS.baselineHealthy,
      "probes",
      ready,
      {
        passed: `/readyz of every service answered 200 in all ${pollCount("readyz")} polls${readinessFlips.length ? " outside the expected flips" : ""}`,
        failed: "/readyz was not 200 where no fault explains it",
      },
      coverage("readyz"),
      { status: 200 },
      { polls: pollCount("readyz"), findings: ready.count },
    ),
  ];
  if (readinessFlips.length)
    results.unshift(
      verdict(
        PROBE_ASSERTIONS.readinessFlip,
        "probes",
        flipFindings,
        {
          passed: `readiness flipped and recovered within ${boundText}: ${JSON.stringify(flips)}`,
          failed: `readiness did not flip within ${boundText}`,
        },
        {
          compared: readinessFlips.filter((f) => evidence.faults.some((x) => x.target === f.fault)).length,
          minimum: readinessFlips.length,
          what: "expected flips",
          because: "the scenario's readiness flips",
        },
        { boundMs, flips: readinessFlips },
        flips,
      ),
    );
  return results;
}

function judgeFlip(
  evidence: Evidence,
  flip: ReadinessFlip,
  polls: ProbeRecord[],
  boundMs: number,
  add: (detail: string) => void,
): { observed: Record<string, unknown>; excuse?: [number, number] } {
  const fault = evidence.faults.find((f) => f.target === flip.fault);
  if (!fault) {
    add(`no fault on ${flip.fault} in the fault journal`);
    return { observed: { fault: "missing" } };
  }
  const revertedAtMs = fault.revertedAtMs ?? Infinity;
  const where = `${flip.service} /readyz`;
  const down = polls.find((p) => p.atMs >= fault.appliedAtMs && p.status === 503);
  const flipMs = down ? down.atMs - fault.appliedAtMs : undefined;
  if (flipMs === undefined || flipMs > boundMs)
    add(
      `${where} turned 503 ${flipMs === undefined ? "never" : `after ${flipMs} ms`} once ${flip.fault} went down (bound ${boundMs} ms)`,
    );
  const check = down?.body?.checks[flip.check];
  if (down && (!check || check.status === "ok"))
    add(`${where} answered 503 without a failed "${flip.check}" check: ${JSON.stringify(down.body ?? null)}`);
  const flapped = down ? polls.filter((p) => p.atMs > down.atMs && p.atMs < revertedAtMs && p.status === 200) : [];
  if (flapped[0])
    add(
      `${where} answered 200 ${flapped.length} times while ${flip.fault} was still down, first at +${flapped[0].atMs}`,
    );
  const up = polls.find((p) => p.atMs >= revertedAtMs && p.status === 200);
  const recoverMs = up ? up.atMs - revertedAtMs : undefined;
  if (fault.revertedAtMs === undefined) add(`${flip.fault} was never reverted`);
  else if (recoverMs === undefined || recoverMs > boundMs)
    add(
      `${where} returned to 200 ${recoverMs === undefined ? "never" : `after ${recoverMs} ms`} once ${flip.fault} came back (bound ${boundMs} ms)`,
    );
  return {
    observed: { flipMs: flipMs ?? null, recoverMs: recoverMs ?? null, check: check ?? null },
    excuse: [fault.appliedAtMs, up?.atMs ?? revertedAtMs + boundMs],
  };
}
