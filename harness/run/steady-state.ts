import fs from "node:fs";
import type { MetricSample, SpanCounts } from "../../assertions/evidence";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import { awaitScrapesAfter, scrapeTargetCount, snapshot } from "../evidence/collect-metrics";
import { runInlineLoad } from "../load/inline-driver";
import type { StartedMesh } from "../mesh/started-mesh";
import { retryUntil } from "../util/retry";
import type { MeshSession } from "./acquire-mesh";
import { AbortRun, type RunContext } from "./scenario-run";

/**
 * Before any fault: every probe the services have answers 200 and (on a fresh mesh) a few requests per route
 * succeed; a reused mesh just served the previous scenario's load. Else the scenario is aborted, not failed.
 */
export async function steadyState(session: MeshSession, scenario: Scenario, context: RunContext): Promise<void> {
  // The probes the services have (a service without one is judged ready by the requests below).
  const probes = Object.values(session.mesh.services).flatMap((s) => [
    ...(s.healthzUrl ? [`${s.name}/healthz`] : []),
    ...(s.readyzUrl ? [`${s.name}/readyz`] : []),
  ]);
  try {
    await retryUntil(
      async () => {
        const latest = new Map<string, number>();
        for (const r of session.poller.records) latest.set(`${r.service}/${r.probe}`, r.status);
        return probes.map((p) => `${p}=${latest.get(p)}`);
      },
      (states) => states.every((s) => s.endsWith("=200")),
      { timeoutMs: 10_000, description: "every service's /healthz and /readyz answering 200" },
    );
  } catch (error) {
    throw new AbortRun(`steady state did not hold before load: ${(error as Error).message}`);
  }
  if (session.reused) return;
  const probe = await runInlineLoad(
    {
      ratePerSec: 20,
      durationMs: 250 * scenario.load.routes.length,
      routes: scenario.load.routes,
      seed: context.seed ^ 0x5eed,
    },
    { baseUrl: session.mesh.edgeUrl, routes: context.target.routes },
  );
  const failed = probe.requests.filter((r) => r.status < 200 || r.status >= 300);
  if (failed.length > 0) {
    const sample = failed
      .slice(0, 3)
      .map((r) => `${r.route} -> ${r.status}${r.error ? ` (${r.error})` : ""} [request ${r.id}]`);
    throw new AbortRun(
      `steady state did not hold before load: ${failed.length}/${probe.requests.length} requests failed: ${sample.join("; ")}`,
    );
  }
}

/** What the run reads at load start, to tell this scenario's telemetry from what came before. */
export interface Baseline {
  /** Every series of the mesh's targets: counter deltas hold only the load's. */
  start: MetricSample[];
  /** Each service's SDK span counts after a flush. */
  spansBefore: Record<string, SpanCounts>;
  /** Each service's structured log file, and its size now: this scenario's lines start there. */
  logFiles: Record<string, string>;
  logOffsets: Record<string, number>;
}

/**
 * The baseline scrape (after the steady state's requests were scraped: a reused mesh's latest scrape already holds
 * them), then a flush so the SDKs' counts and the log files hold everything ended before the load.
 */
export async function baseline(session: MeshSession, steadyMs: number, context: RunContext): Promise<Baseline> {
  const { mesh } = session;
  const { prometheus } = context.target;
  const targets = scrapeTargetCount(Object.values(mesh.services));
  if (!session.reused) await awaitScrapesAfter(prometheus, mesh.scrapeJob, targets, steadyMs);
  const start = await snapshot(prometheus, mesh.scrapeJob);
  context.signal?.throwIfAborted();
  await mesh.flush();
  const spansBefore = await spanCounts(mesh);
  const logFiles = Object.fromEntries(
    Object.values(mesh.services).flatMap((s) => (s.jsonLogFile ? [[s.name, s.jsonLogFile]] : [])),
  );
  const logOffsets = Object.fromEntries(
    Object.entries(logFiles).map(([name, file]) => [name, fs.existsSync(file) ? fs.statSync(file).size : 0]),
  );
  return { start, spansBefore, logFiles, logOffsets };
}

/** Each service's SDK span counts (admin /admin/telemetry); services without an admin API, or not answering, left out. */
export async function spanCounts(mesh: StartedMesh): Promise<Record<string, SpanCounts>> {
  const read = await Promise.all(
    Object.values(mesh.services).map(async (s) => [s.name, await s.admin?.telemetry().catch(() => undefined)] as const),
  );
  return Object.fromEntries(read.flatMap(([name, stats]) => (stats?.spans ? [[name, stats.spans]] : [])));
}
