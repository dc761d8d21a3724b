import { faultSignature } from "./faults";
import { faultEffect } from "./faults";
import type { AssertionResult, Evidence, ProbeRecord, ServiceInfo } from "./evidence";
import { PROBE_DEFAULTS, type ReadinessFlip } from "./expectations";
import { Findings, notPromised, verdict, type Coverage } from "./result";
import type { RunView } from "./run-view";
import { heldUntil, hopOfFault } from "./trace-shape";

/** Stable ids of the probes family. */
export const PROBE_ASSERTIONS = {
  readinessFlip: "probes.readiness-flip",
  livenessFlip: "probes.liveness-flip",
  livenessStable: "probes.liveness-stable",
  gracefulDrain: "probes.graceful-drain",
  baselineHealthy: "probes.baseline-healthy",
} as const;

type Probe = ProbeRecord["probe"];

/** Whether the harness polls a service's probe (evidence recorded before it was told: both, as the sample kit's). */
export function polled(service: ServiceInfo, probe: Probe): boolean {
  return (service.probes ?? ["healthz", "readyz"]).includes(probe);
}

/** A poll in words, its time relative to load start. */
function describePoll(poll: ProbeRecord, startMs: number): string {
  return `${poll.service} /${poll.probe} answered ${poll.status || `nothing (${poll.error ?? "no response"})`} at +${poll.atMs - startMs} ms`;
}

/** How a poll failed: "503", "timeout" (the poller's deadline passed), "refused", or "error"; undefined when 200. */
function answerOf(poll: ProbeRecord): string | undefined {
  if (poll.status === 200) return undefined;
  if (poll.status !== 0) return String(poll.status);
  if (poll.outcome && poll.outcome !== "answered") return poll.outcome;
  return /timeout|aborted/i.test(poll.error ?? "")
    ? "timeout"
    : /refused/i.test(poll.error ?? "")
      ? "refused"
      : "error";
}

/** The polls of one service's probe after load start, in time order. */
type Polls = (service: string, probe: Probe) => ProbeRecord[];

/** The bound on a flip and on its recovery, and how messages state it. */
interface FlipBound {
  ms: number;
  text: string;
}

/** The declared flips of one probe, judged. */
interface FlipResult {
  probe: Probe;
  declared: ReadinessFlip[];
  findings: Findings;
  observed: Record<string, unknown>;
}

/**
 * Family "probes": /healthz of every service answers 200 throughout the run — liveness never flips on a dependency
 * outage — and /readyz answers 200, except where a fault must flip a probe: there it stops answering 200 the
 * declared way (a 503 naming the failed check, or no answer from a frozen or dead process) within the bound (check
 * timeout + poll interval + slack) and answers 200 again within the same bound after the revert. The measured flip
 * latencies are in `observed`. A service without a probe (nothing polled for it) is left out of that probe's claims;
 * with no service left, the claim is not promised.
 */
export function assertProbes(view: RunView): AssertionResult[] {
  const { evidence, expectations } = view;
  const {
    readinessFlips = [],
    checkTimeoutMs = PROBE_DEFAULTS.checkTimeoutMs,
    pollIntervalMs = PROBE_DEFAULTS.pollIntervalMs,
    slackMs = PROBE_DEFAULTS.slackMs,
  } = expectations.probes ?? {};
  const boundMs = checkTimeoutMs + pollIntervalMs + slackMs;
  const bound: FlipBound = {
    ms: boundMs,
    text: `${boundMs} ms = check timeout ${checkTimeoutMs} + poll interval ${pollIntervalMs} + slack ${slackMs}`,
  };
  const after = evidence.probes.filter((p) => p.atMs >= evidence.window.startMs).sort((a, b) => a.atMs - b.atMs);
  const polls: Polls = (service, probe) => after.filter((p) => p.service === service && p.probe === probe);
  /** Per service and probe, the intervals in which it may fail (a declared flip, measured). */
  const excused = new Map<string, [number, number][]>();
  const flips = (["readyz", "healthz"] as const).map((probe) =>
    judgeFlips(evidence, probe, readinessFlips, polls, bound.ms, excused),
  );
  const stable = unexcusedFailures(view, polls, excused);
  const results = flips.filter((f) => f.declared.length).map((f) => flipVerdict(evidence, f, bound));
  results.push(...stableVerdicts(view, after, stable, flips, pollIntervalMs));
  if (evidence.faults.some((f) => faultSignature(f.kind).drains)) results.push(gracefulDrain(view));
  return results;
}

/** The declared flips of one probe; each measured flip excuses its probe's failures from its fault to its recovery. */
function judgeFlips(
  evidence: Evidence,
  probe: Probe,
  readinessFlips: readonly ReadinessFlip[],
  polls: Polls,
  boundMs: number,
  excused: Map<string, [number, number][]>,
): FlipResult {
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  const declared = readinessFlips.filter((f) => (f.probe ?? "readyz") === probe);
  for (const flip of declared) {
    const result = judgeFlip(evidence, flip, polls(flip.service, probe), boundMs, (detail) => findings.add({ detail }));
    observed[`${flip.service} /${probe} ${flip.check ?? flip.answer ?? "503"} (${flip.fault})`] = result.observed;
    const key = `${flip.service}/${probe}`;
    if (result.excuse) excused.set(key, [...(excused.get(key) ?? []), result.excuse]);
  }
  return { probe, declared, findings, observed };
}

function flipVerdict(
  evidence: Evidence,
  { probe, declared, findings, observed }: FlipResult,
  bound: FlipBound,
): AssertionResult {
  return verdict(
    probe === "readyz" ? PROBE_ASSERTIONS.readinessFlip : PROBE_ASSERTIONS.livenessFlip,
    "probes",
    findings,
    {
      passed: `/${probe} flipped and recovered within ${bound.text}: ${JSON.stringify(observed)}`,
      failed: `/${probe} did not flip as the faults imply within ${bound.text}`,
    },
    {
      compared: declared.filter((f) => evidence.faults.some((x) => x.target === f.fault)).length,
      minimum: declared.length,
      what: "expected flips",
      because: "the scenario's expected flips",
    },
    { boundMs: bound.ms, flips: declared },
    observed,
  );
}

/** Per probe, the polls of every service not answered 200 outside an excused flip or a tolerated fault. */
function unexcusedFailures(view: RunView, polls: Polls, excused: ReadonlyMap<string, [number, number][]>) {
  const { evidence, expectations } = view;
  // Tolerated faults: every probe of every service may fail while they hold and for their grace after.
  const tolerated = (expectations.probes?.tolerate ?? []).flatMap((target) =>
    evidence.faults
      .filter((f) => f.target === target)
      .map((f): [number, number] => [
        f.appliedAtMs,
        heldUntil(f, evidence.window.endMs) + (faultEffect(f)?.graceMs ?? 0),
      ]),
  );
  const stable = { healthz: new Findings(), readyz: new Findings() };
  for (const service of evidence.services) {
    for (const probe of ["healthz", "readyz"] as const) {
      if (!polled(service, probe)) continue;
      const list = polls(service.name, probe);
      const findings = stable[probe];
      if (!list.length) findings.add({ detail: `no /${probe} poll of ${service.name} after load start` });
      const windows = [...(excused.get(`${service.name}/${probe}`) ?? []), ...tolerated];
      // Excused when the poll overlaps a window: one sent just before a fault may be answered after it took.
      const bad = list.filter(
        (p) => p.status !== 200 && !windows.some(([from, to]) => p.atMs + p.latencyMs >= from && p.atMs <= to),
      );
      if (bad[0])
        findings.add({
          detail: `${bad.length} of ${list.length} polls not 200, first: ${describePoll(bad[0], evidence.window.startMs)}`,
        });
    }
  }
  return stable;
}

/** liveness-stable and baseline-healthy: every service's /healthz and /readyz answered 200 where not excused. */
function stableVerdicts(
  view: RunView,
  after: readonly ProbeRecord[],
  stable: { healthz: Findings; readyz: Findings },
  flips: readonly FlipResult[],
  pollIntervalMs: number,
): AssertionResult[] {
  const { evidence } = view;
  const probed = (probe: Probe) => evidence.services.filter((s) => polled(s, probe));
  const pollCount = (probe: Probe) => {
    const unpolled = new Set(evidence.services.filter((s) => !polled(s, probe)).map((s) => s.name));
    return after.filter((p) => p.probe === probe && !unpolled.has(p.service)).length;
  };
  // The poller runs from before load to quiesce: at least half its ticks over the load window, per service.
  const windowMs = evidence.window.endMs - evidence.window.startMs;
  const ticks = Math.max(1, Math.floor(windowMs / pollIntervalMs / 2));
  const coverage = (probe: Probe): Coverage => ({
    compared: pollCount(probe),
    minimum: ticks * probed(probe).length,
    what: `/${probe} polls`,
    because: `half the ${pollIntervalMs} ms ticks of a ${windowMs} ms window for ${probed(probe).length} services`,
  });
  const flipsSaid = (declared: readonly ReadinessFlip[]) => (declared.length ? " outside the expected flips" : "");
  const [readyFlips, liveFlips] = flips as [FlipResult, FlipResult];
  const unpromised = (probe: Probe, id: string) =>
    evidence.services.length > 0 && probed(probe).length === 0
      ? notPromised(id, "probes", `no service has a /${probe} probe (services.<name>.${probe}Url)`)
      : undefined;
  return [
    unpromised("healthz", PROBE_ASSERTIONS.livenessStable) ??
      verdict(
        PROBE_ASSERTIONS.livenessStable,
        "probes",
        stable.healthz,
        {
          passed: `/healthz of every service answered 200 in all ${pollCount("healthz")} polls${flipsSaid(liveFlips.declared)}`,
          failed: "/healthz was not 200 where no fault explains it",
        },
        coverage("healthz"),
        { status: 200 },
        { polls: pollCount("healthz"), findings: stable.healthz.count },
      ),
    unpromised("readyz", PROBE_ASSERTIONS.baselineHealthy) ??
      verdict(
        PROBE_ASSERTIONS.baselineHealthy,
        "probes",
        stable.readyz,
        {
          passed: `/readyz of every service answered 200 in all ${pollCount("readyz")} polls${flipsSaid(readyFlips.declared)}`,
          failed: "/readyz was not 200 where no fault explains it",
        },
        coverage("readyz"),
        { status: 200 },
        { polls: pollCount("readyz"), findings: stable.readyz.count },
      ),
  ];
}

/**
 * A graceful restart (SIGTERM) drains: the service's /readyz answers 503 before its listener stops answering, and
 * every request in flight through it when the signal came completes successfully (the driver's answers). Refused
 * calls after the listener closed are the restart's, explained by the journal (metrics.unexplained-failures).
 */
function gracefulDrain(view: RunView): AssertionResult {
  const { evidence } = view;
  const findings = new Findings();
  const observed: Record<string, unknown> = {};
  let inFlightCount = 0;
  const restarts = evidence.faults.filter((f) => faultSignature(f.kind).drains);
  for (const fault of restarts) {
    const service = fault.target;
    const polls = evidence.probes
      .filter((p) => p.service === service && p.atMs >= fault.appliedAtMs)
      .sort((a, b) => a.atMs - b.atMs);
    const gone = polls.find((p) => p.status === 0);
    const draining = polls.find(
      (p) => p.probe === "readyz" && p.status === 503 && (gone === undefined || p.atMs < gone.atMs),
    );
    // Without a readiness probe, the drain's signal is not promised: only the calls in flight are judged.
    const info = view.service(service);
    const ready = info === undefined || polled(info, "readyz");
    if (!gone && ready) findings.add({ detail: `${service} never stopped answering its probes after SIGTERM` });
    if (!draining && ready)
      findings.add({
        detail: `${service} /readyz never answered 503 before its listener closed (${gone ? `first unanswered poll +${gone.atMs - fault.appliedAtMs} ms after SIGTERM: ${describePoll(gone, evidence.window.startMs)}` : "no unanswered poll"})`,
      });
    const inFlight = view.requests.filter(
      (r) =>
        r.request.startMs < fault.appliedAtMs &&
        r.request.endMs > fault.appliedAtMs &&
        hopOfFault(fault, r.hops, view.edge?.name) !== -1,
    );
    inFlightCount += inFlight.length;
    const cut = inFlight.filter((r) => !r.success);
    if (cut.length)
      findings.add({
        detail: `${cut.length} of ${inFlight.length} requests in flight through ${service} at SIGTERM failed: ${cut
          .slice(0, 3)
          .map((r) => `${r.request.route} ${r.request.status} [${r.request.id}]`)
          .join(", ")}`,
        requestId: cut[0]!.request.id,
      });
    observed[service] = {
      ...(ready ? {} : { readiness: "not promised: no /readyz probe (services.<name>.readyzUrl)" }),
      drainingAfterMs: draining ? draining.atMs - fault.appliedAtMs : null,
      listenerClosedAfterMs: gone ? gone.atMs - fault.appliedAtMs : null,
      inFlight: inFlight.length,
      failed: cut.length,
    };
  }
  return verdict(
    PROBE_ASSERTIONS.gracefulDrain,
    "probes",
    findings,
    {
      passed: `every SIGTERM drained: /readyz 503 before the listener closed, all ${inFlightCount} requests in flight completed: ${JSON.stringify(observed)}`,
      failed: "a graceful restart did not drain",
    },
    {
      compared: inFlightCount,
      minimum: restarts.length,
      what: "requests in flight at SIGTERM",
      because: "a request in flight through each restarted service (the scenario keeps calls slow there)",
    },
    { readinessBeforeClose: true, inFlightComplete: true },
    observed,
  );
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
  const answer = flip.answer ?? "503";
  const probe = flip.probe ?? "readyz";
  const where = `${flip.service} /${probe}`;
  // The fault held until its revert began (a killed service's start issued); it was in place again at revertedAtMs
  // (for a process fault: once the harness saw it ready). Recovery is measured from there.
  const revertedAtMs = fault.revertedAtMs ?? Infinity;
  const heldUntilMs = fault.revertStartedAtMs ?? revertedAtMs;
  // A poll took the fault when sent once it was applied, or when still unanswered then: the signal lands a few ms
  // after the journal's time (docker pause caught a /readyz sent 7 ms before it, and it timed out).
  const tookFault = (p: ProbeRecord) =>
    p.atMs >= fault.appliedAtMs || (p.status === 0 && p.atMs + p.latencyMs >= fault.appliedAtMs);
  const matching = polls.filter((p) => tookFault(p) && p.atMs <= heldUntilMs && answerOf(p) === answer);
  const down = matching[0];
  const flipMs = down ? Math.max(0, down.atMs - fault.appliedAtMs) : undefined;
  if (flipMs === undefined || flipMs > boundMs)
    add(
      `${where} answered ${answer} ${flipMs === undefined ? "never" : `only after ${flipMs} ms`} once ${flip.fault} took the fault (bound ${boundMs} ms)`,
    );
  const check = flip.check === undefined ? undefined : down?.body?.checks[flip.check];
  if (down && flip.check !== undefined && (!check || check.status === "ok"))
    add(`${where} answered ${answer} without a failed "${flip.check}" check: ${JSON.stringify(down.body ?? null)}`);
  if (flip.intermittent) {
    if (matching.length < flip.intermittent.atLeast)
      add(
        `${where} answered ${answer} ${matching.length} times while ${flip.fault} held, at least ${flip.intermittent.atLeast} expected`,
      );
  } else {
    // A 200 while faulted: a poll that was answered (started and finished) inside the fault.
    const flapped = down
      ? polls.filter((p) => p.atMs > down.atMs && p.atMs + p.latencyMs < heldUntilMs && p.status === 200)
      : [];
    if (flapped[0])
      add(
        `${where} answered 200 ${flapped.length} times while ${flip.fault} was still faulted, first at +${flapped[0].atMs}`,
      );
  }
  const up = polls.find((p) => p.atMs >= heldUntilMs && p.status === 200);
  const recoverMs = up ? Math.max(0, up.atMs - revertedAtMs) : undefined;
  if (fault.revertedAtMs === undefined) add(`${flip.fault} was never reverted`);
  else if (recoverMs === undefined || recoverMs > boundMs)
    add(
      `${where} returned to 200 ${recoverMs === undefined ? "never" : `after ${recoverMs} ms`} once ${flip.fault} was reverted (bound ${boundMs} ms)`,
    );
  return {
    observed: {
      flipMs: flipMs ?? null,
      recoverMs: recoverMs ?? null,
      ...(flip.intermittent ? { answers: matching.length } : {}),
      ...(flip.check ? { check: check ?? null } : {}),
    },
    excuse: [fault.appliedAtMs, up?.atMs ?? revertedAtMs + boundMs],
  };
}
