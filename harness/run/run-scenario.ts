import type { Scenario } from "../../scenarios/lib/scenario-model";
import { whyNotApplicable } from "../mesh/target";
import { acquireMesh, logFilesOf, releaseMesh, watchMesh, type MeshSession } from "./acquire-mesh";
import { quiesceAndCollect } from "./collect";
import { scenarioVerdict, type ScenarioOutcome } from "./judge";
import { PhaseClock } from "./phase-clock";
import { AbortRun, type RunContext, type ScenarioRun } from "./scenario-run";
import { baseline, steadyState } from "./steady-state";
import { runTimeline } from "./timeline";

/**
 * One scenario, start to verdict: acquire the mesh -> steady state -> timeline (load and faults on one clock) ->
 * quiesce and collect -> judge -> release. The mesh is released and every fault reverted whatever happens; an
 * abort (the mesh did not start, the baseline did not hold, a signal) is a verdict, any other error is rethrown.
 */
export async function runScenario(scenario: Scenario, context: RunContext): Promise<ScenarioRun> {
  const clock = new PhaseClock(scenario.name, context.reporter);
  const measurements: Record<string, number> = {};
  const { expectations } = scenario;
  const verdictOf = (outcome: ScenarioOutcome) =>
    scenarioVerdict(scenario, outcome, {
      durationMs: clock.elapsedMs(),
      phases: clock.phases,
      measurements: {
        ...measurements,
        ...(context.capacityPerSec === undefined ? {} : { capacityPerSec: context.capacityPerSec }),
      },
    });

  const notApplicable = whyNotApplicable(scenario.faults, context.target.topology, scenario.mesh?.samplingRatio);
  if (notApplicable)
    return { verdict: verdictOf({ status: "not-applicable", reason: notApplicable }), expectations, logFiles: [] };

  let session: MeshSession | undefined;
  // A mesh whose scenario aborted, failed or left a fault unreverted is not handed to the next scenario.
  let dirty = true;
  let abortedBy: unknown;
  try {
    const acquired = await clock.phase("mesh start", () => acquireMesh(scenario, context));
    session = await watchMesh(acquired, scenario, context);
    const held = session;
    // A SIGINT/SIGTERM during the mesh's start ends the run here, not after a whole load.
    context.signal?.throwIfAborted();
    await clock.phase("steady state", () => steadyState(held, scenario, context));
    const steadyMs = Date.now();
    const start = await clock.phase("baseline scrape", () => baseline(held, steadyMs, context));
    context.signal?.throwIfAborted();
    const timeline = await clock.phase("load", () => runTimeline(scenario, held, context));
    Object.assign(measurements, timeline.measurements);
    const collected = await clock.phase("quiesce and collect", () =>
      quiesceAndCollect(scenario, expectations, held, start, timeline, context),
    );
    Object.assign(measurements, collected.measurements);
    const { evidence } = collected;
    const judgement = await clock.phase("evaluate", async () => context.evaluate(evidence, expectations));
    const k6 = timeline.load.k6;
    const verdict = verdictOf({ status: "judged", evidence, expectations, judgement, ...(k6 ? { k6 } : {}) });
    // A mesh whose faults all reverted and whose run passed is as it was: the next scenario may use it.
    dirty = verdict.status !== "passed" || held.journal.records.some((r) => r.revertError !== undefined);
    return { verdict, expectations, evidence, ...(k6 ? { k6 } : {}), logFiles: logFilesOf(held.mesh) };
  } catch (error) {
    if (!(error instanceof AbortRun) && !context.signal?.aborted) throw error;
    abortedBy = error;
  } finally {
    if (session) await releaseMesh(session, context, dirty);
  }
  // Aborted: the verdict holds the journal as the release left it (every fault reverted).
  const reason = context.signal?.aborted
    ? String((context.signal.reason as Error)?.message ?? "aborted")
    : (abortedBy as Error).message;
  const faults = session?.journal.records;
  return {
    verdict: verdictOf({ status: "aborted", reason, ...(faults ? { faults } : {}) }),
    expectations,
    logFiles: session ? logFilesOf(session.mesh) : [],
  };
}
