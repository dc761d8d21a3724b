import type { MetricSample } from "../../assertions/evidence";
import { parseExposition } from "../../assertions/promlint";
import { ConfigError } from "../errors";
import type { MeshService, StartedMesh } from "../mesh/started-mesh";
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
      await control.freeze();
      record.appliedAtMs = Date.now();
      return activeFault(record, () => control.thaw());
    }
    if (fault.kind === "kill") {
      const before = await lastCounters(service);
      await control.kill();
      record.appliedAtMs = Date.now();
      return activeFault({ ...record, lastSamples: before, lastSamplesAtMs: record.appliedAtMs }, () =>
        startAndWaitReady(service),
      );
    }
    // restart: the drain is part of the fault; the service starts again as soon as it has exited. What it counts
    // while draining dies with it (Prometheus scrapes no more): the judge allows for the calls in flight then.
    const before = await lastCounters(service);
    record.appliedAtMs = Date.now();
    const stopped = control.stopGracefully();
    return activeFault({ ...record, lastSamples: before, lastSamplesAtMs: record.appliedAtMs }, async () => {
      await stopped;
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
async function lastCounters(service: MeshService): Promise<MetricSample[]> {
  await service.admin?.flush().catch(() => undefined);
  const response = await fetch(service.metricsUrl, {
    headers: { accept: "text/plain;version=0.0.4" },
    signal: AbortSignal.timeout(2_000),
  });
  const instance = service.contract.labels.instance;
  return parseExposition(await response.text())
    .filter((f) => f.type === "counter" || f.type === "histogram" || f.type === "summary")
    .flatMap((f) => f.samples)
    .map((s) => ({ name: s.name, labels: { ...s.labels, [instance]: service.instance }, value: s.value }));
}

async function startAndWaitReady(service: MeshService): Promise<void> {
  await service.control!.start();
  await retryUntil(
    async () => (await fetch(service.readyzUrl, { signal: AbortSignal.timeout(2_000) })).status,
    (status) => status === 200,
    { timeoutMs: READY_AFTER_START_MS, description: `${service.name} ready again after its restart`, maxDelayMs: 100 },
  );
}
