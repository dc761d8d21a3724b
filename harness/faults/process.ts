import type { FaultRecord, MetricSample } from "../../assertions/evidence";
import { canonicalLabels } from "../../assertions/metric-query";
import { parseExposition } from "../../assertions/promlint";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../errors";
import { OTEL_DEFAULT_EXPORT_INTERVAL_MS } from "../mesh/external-mesh";
import { answersReady } from "../mesh/readiness";
import type { MeshService, StartedMesh } from "../mesh/started-mesh";
import { retryUntil } from "../util/retry";
import { readStat } from "./cgroup-procs";
import type { Leftover } from "./disk-journal";
import { needs, type FaultInjector } from "./injector";

/** How long a restarted service may take to answer /readyz 200 again. */
const READY_AFTER_START_MS = 30_000;

/** The service a process fault names, and its control; ConfigError when the harness cannot signal it. */
function controlled(fault: { kind: string; target: string }, mesh: StartedMesh): MeshService {
  const service = mesh.services[fault.target];
  if (!service)
    throw new ConfigError(
      `${fault.kind} fault target "${fault.target}" must be a service of the mesh (${Object.keys(mesh.services).join(", ")})`,
    );
  if (!service.control) throw new ConfigError(`${fault.target}'s process cannot be controlled by the harness`);
  return service;
}

const validate = (fault: { kind: string; target: string }, mesh: StartedMesh) => void controlled(fault, mesh);

/** Why a killed or stopped service stays down when the harness dies. */
const NOT_STARTED_AGAIN =
  "only the harness's launcher can start the service again (its command, environment and ports); a mesh meshproof " +
  "started is ended by the lifeline, a service of yours stays down until you start it";

/**
 * Thaws a frozen process without the harness (the lifeline's and a later run's revert): SIGCONT to it and to its
 * process group. A process that is gone (or whose pid now names another) took the fault with it.
 */
export async function revertSignalLeftover(leftover: Extract<Leftover, { via: "signal" }>): Promise<string | void> {
  const stat = readStat(leftover.pid);
  if (!stat || (leftover.startTicks !== undefined && stat.startTicks !== leftover.startTicks))
    return `process ${leftover.pid} is gone: the fault went with it`;
  for (const target of [-leftover.pid, leftover.pid]) {
    try {
      process.kill(target, leftover.signal);
    } catch {
      // Not a group leader: the process itself is signalled.
    }
  }
}

/** "freeze": SIGSTOP (docker pause) now, SIGCONT at the end. */
export const freeze: FaultInjector<"freeze"> = {
  via: "signal",
  whyNot: needs("signal", "process the harness may signal (launch it with meshproof, or give its pid)"),
  validate,
  leftover(fault, mesh) {
    const { pid } = controlled(fault, mesh);
    if (pid === undefined)
      return { none: "the service has no process the harness can see: only docker unpause thaws it" };
    const startTicks = readStat(pid)?.startTicks;
    return { via: "signal", pid, ...(startTicks === undefined ? {} : { startTicks }), signal: "SIGCONT" };
  },
  async apply(fault, mesh) {
    const control = controlled(fault, mesh).control!;
    const appliedAtMs = Date.now();
    await control.freeze();
    return { appliedAtMs, revert: () => control.thaw() };
  },
};

/**
 * "kill": SIGKILL now, started again (same ports and environment) at the end, reverted once ready. Its spans and logs
 * are flushed first and its counters read from its /metrics: its first life's last values, which Prometheus may not
 * have scraped. Spans it ends from the flush on die in its exporter's queue (without a flush, up to a batch delay).
 */
export const kill: FaultInjector<"kill"> = {
  via: "signal",
  whyNot: needs("restart", "way to be started again (launch it with meshproof, or run it in a container)"),
  validate,
  leftover: () => ({ none: NOT_STARTED_AGAIN }),
  async apply(fault, mesh) {
    const service = controlled(fault, mesh);
    const flushStartedAtMs = Date.now();
    const flushed = await flush(service);
    const lastSamples = await lastCounters(service);
    const appliedAtMs = Date.now();
    await service.control!.kill();
    // The signal takes a while to land (through the engine, 23 ms once in containers): until the process is seen
    // gone (the journal's inPlaceAtMs) it may serve calls whose spans, logs and counts die with it.
    const spansLostFromMs = flushed
      ? flushStartedAtMs
      : appliedAtMs - Math.max(mesh.exportIntervalMs, OTEL_DEFAULT_EXPORT_INTERVAL_MS);
    return {
      appliedAtMs,
      details: { lastSamples, lastSamplesAtMs: appliedAtMs, uncountedUntilMs: Date.now(), spansLostFromMs },
      revert: () => startAndWaitReady(service),
    };
  },
};

/**
 * "restart": SIGTERM now (the drain is part of the fault), started again once it has exited. What it counts while
 * draining no scrape sees: its admin API hands over the final values once drained (else the values before the signal
 * are all there is).
 */
export const restart: FaultInjector<"restart"> = {
  via: "signal",
  whyNot: needs("restart", "way to be started again (launch it with meshproof, or run it in a container)"),
  validate,
  leftover: () => ({ none: NOT_STARTED_AGAIN }),
  async apply(fault, mesh) {
    const service = controlled(fault, mesh);
    await flush(service);
    const lastSamples = await lastCounters(service);
    const appliedAtMs = Date.now();
    const stopped = service.control!.stopGracefully();
    const final = service.admin
      ? service.admin
          .finalMetrics()
          .then((text) =>
            text === undefined ? {} : { lastSamples: counterSamples(text), lastSamplesAtMs: Date.now() },
          )
      : lastReadBefore(service, stopped);
    return {
      appliedAtMs,
      details: { lastSamples, lastSamplesAtMs: appliedAtMs },
      async revert() {
        const [, learnt] = await Promise.all([stopped, final]);
        await startAndWaitReady(service);
        return learnt;
      },
    };
  },
};

/**
 * From outside, the counters a draining service ends with: its /metrics read every 50 ms until it stops answering
 * or the process is gone, the last read kept, and when the process exited (what it counted in between, no read saw).
 */
async function lastReadBefore(service: MeshService, stopped: Promise<void>): Promise<Partial<FaultRecord>> {
  let stoppedAtMs: number | undefined;
  const exited = stopped.then(
    () => void (stoppedAtMs = Date.now()),
    () => void (stoppedAtMs = Date.now()),
  );
  let last: Partial<FaultRecord> = {};
  while (stoppedAtMs === undefined && service.metricsUrl) {
    const samples = await lastCounters(service).catch(() => undefined);
    if (!samples) break;
    last = { lastSamples: samples, lastSamplesAtMs: Date.now() };
    await sleep(50);
  }
  await exited;
  // Its metrics listener may close before the rest: it serves, uncounted by any read, until the process exits.
  return last.lastSamples ? { ...last, uncountedUntilMs: stoppedAtMs } : last;
}

/** Asks the service to export its finished spans and log lines now; false where it has no admin API or failed. */
async function flush(service: MeshService): Promise<boolean> {
  if (!service.admin) return false;
  return service.admin.flush().then(
    () => true,
    () => false,
  );
}

/** The service's counters now, read from its /metrics (text format). */
async function lastCounters(service: MeshService): Promise<MetricSample[]> {
  if (!service.metricsUrl) return [];
  const response = await fetch(service.metricsUrl, {
    headers: { accept: "text/plain;version=0.0.4" },
    signal: AbortSignal.timeout(2_000),
  });
  return counterSamples(await response.text());
}

/** Counter, histogram and summary samples of a metrics page, labelled as the service exposes them. */
function counterSamples(text: string): MetricSample[] {
  return parseExposition(text)
    .filter((f) => f.type === "counter" || f.type === "histogram" || f.type === "summary")
    .flatMap((f) => f.samples)
    .map((s) => ({ name: s.name, labels: canonicalLabels(s.labels), value: s.value }));
}

async function startAndWaitReady(service: MeshService): Promise<void> {
  await service.control!.start();
  const url = service.readyUrl ?? service.readyzUrl;
  if (url === undefined) return;
  await retryUntil(() => answersReady(url), Boolean, {
    timeoutMs: READY_AFTER_START_MS,
    description: `${service.name} ready again after its restart`,
    maxDelayMs: 100,
  });
}
