import type { FaultRecord, MetricSample, ServiceInfo } from "../../assertions/evidence";
import { canonicalLabels } from "../../assertions/metric-query";
import { parseExposition } from "../../assertions/promlint";
import { ConfigError } from "../errors";
import type { MeshService, StartedMesh } from "../mesh/started-mesh";
import { OTEL_DEFAULT_EXPORT_INTERVAL_MS } from "../mesh/external-mesh";
import { retryUntil } from "../util/retry";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

/** How long a restarted service may take to answer /readyz 200 again. */
const READY_AFTER_START_MS = 30_000;

/**
 * Process faults on a service (its ServiceControl: signals for native processes, docker commands for containers),
 * target a service name:
 * - "kill": SIGKILL now, started again (same ports, same environment) at the fault's end;
 * - "freeze": SIGSTOP now, SIGCONT at the end;
 * - "restart": SIGTERM now (the service drains and exits), started again once it has exited.
 * A fault is reverted once the service answers /readyz 200 again. Before a kill the service's spans and logs are
 * flushed and its counters read straight from its /metrics: the last values of its first life, which Prometheus may
 * not have scraped (the judge adds both lives' increases).
 */
export class ProcessFaultInjector implements FaultInjector {
  readonly kinds = ["kill", "freeze", "restart"] as const;

  constructor(private readonly mesh: StartedMesh) {}

  validate(fault: FaultPlan): void {
    this.locate(fault);
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    const service = this.locate(fault);
    const control = service.control!;
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: 0 };
    if (fault.kind === "freeze") {
      record.appliedAtMs = Date.now();
      await control.freeze();
      return activeFault(record, () => control.thaw());
    }
    if (fault.kind === "kill") {
      // What the service ends from the flush on dies in its exporter's queue; without a flush, up to a batch delay.
      const flushStartedAtMs = Date.now();
      const flushed = await flush(service);
      const before = await lastCounters(service);
      record.appliedAtMs = Date.now();
      await control.kill();
      const spansLostFromMs = flushed
        ? flushStartedAtMs
        : record.appliedAtMs - Math.max(this.mesh.exportIntervalMs, OTEL_DEFAULT_EXPORT_INTERVAL_MS);
      return activeFault({ ...record, lastSamples: before, lastSamplesAtMs: record.appliedAtMs, spansLostFromMs }, () =>
        startAndWaitReady(service),
      );
    }
    // restart: the drain is part of the fault; the service starts again once it has exited. What it counts while
    // draining no scrape sees: its admin API hands over the final values once the listeners have drained (else the
    // values just before the signal are all there is, and calls finishing in the drain are missing from them).
    await flush(service);
    const before = await lastCounters(service);
    record.appliedAtMs = Date.now();
    const stopped = control.stopGracefully();
    const final = service.admin?.finalMetrics();
    const journaled = { ...record, lastSamples: before, lastSamplesAtMs: record.appliedAtMs };
    void final?.then((text) => {
      if (text === undefined) return;
      journaled.lastSamples = counterSamples(text);
      journaled.lastSamplesAtMs = Date.now();
    });
    return activeFault(journaled, async () => {
      await Promise.all([stopped, final]);
      await startAndWaitReady(service);
    });
  }

  private locate(fault: FaultPlan): MeshService {
    const service = this.mesh.services[fault.target];
    if (!service)
      throw new ConfigError(
        `${fault.kind} fault target "${fault.target}" must be a service of the mesh (${Object.keys(this.mesh.services).join(", ")})`,
      );
    if (!service.control) throw new ConfigError(`${fault.target}'s process cannot be controlled by the harness`);
    return service;
  }
}

/** The service's counters now, read from its /metrics (text format) with the `instance` label Prometheus adds. */
/** Asks the service to export its finished spans and log lines now; false where it has no admin API or failed. */
async function flush(service: MeshService): Promise<boolean> {
  if (!service.admin) return false;
  return service.admin.flush().then(
    () => true,
    () => false,
  );
}

async function lastCounters(service: MeshService): Promise<MetricSample[]> {
  const response = await fetch(service.metricsUrl, {
    headers: { accept: "text/plain;version=0.0.4" },
    signal: AbortSignal.timeout(2_000),
  });
  return counterSamples(await response.text());
}

/**
 * Counter, histogram and summary samples of a metrics page, labelled as the service exposes them (the run loop adds
 * the target labels Prometheus gives its series: withTargetLabels).
 */
function counterSamples(text: string): MetricSample[] {
  return parseExposition(text)
    .filter((f) => f.type === "counter" || f.type === "histogram" || f.type === "summary")
    .flatMap((f) => f.samples)
    .map((s) => ({ name: s.name, labels: canonicalLabels(s.labels), value: s.value }));
}

/**
 * The journal's last samples of each process life, with the target labels Prometheus gives the service's series
 * (job, instance, and whatever the mesh registered: those of its `up` series in `scraped`), so they match them.
 */
export function withTargetLabels(
  records: readonly FaultRecord[],
  scraped: readonly MetricSample[],
  services: readonly ServiceInfo[],
): void {
  for (const record of records) {
    const service = services.find((s) => s.name === record.target);
    if (!record.lastSamples || !service) continue;
    const up = scraped.find(
      (s) => s.name === service.contract.up && s.labels[service.contract.labels.instance] === service.instance,
    );
    const { __name__: _, ...target } = up?.labels ?? { [service.contract.labels.instance]: service.instance };
    record.lastSamples = record.lastSamples.map((s) => ({ ...s, labels: { ...s.labels, ...target } }));
  }
}

async function startAndWaitReady(service: MeshService): Promise<void> {
  await service.control!.start();
  await retryUntil(
    async () => (await fetch(service.readyzUrl, { signal: AbortSignal.timeout(2_000) })).status,
    (status) => status === 200,
    { timeoutMs: READY_AFTER_START_MS, description: `${service.name} ready again after its restart`, maxDelayMs: 100 },
  );
}
