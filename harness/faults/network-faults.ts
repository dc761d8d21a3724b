import type { ToxiproxyClient } from "../backends/toxiproxy";
import { ConfigError } from "../errors";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

/**
 * Network faults on the mesh's links (Toxiproxy proxies): "link-down" disables the proxy (connections closed,
 * new ones refused), "link-latency" adds a latency toxic ({ms, jitterMs}).
 */
export class NetworkFaultInjector implements FaultInjector {
  readonly kinds = ["link-down", "link-latency"] as const;

  constructor(
    private readonly toxiproxy: ToxiproxyClient,
    /** Link names the mesh routes through Toxiproxy. */
    private readonly links: readonly string[],
  ) {}

  validate(fault: FaultPlan): void {
    if (!this.links.includes(fault.target)) {
      throw new ConfigError(
        `fault target "${fault.target}" is not a link of the mesh; links: ${this.links.join(", ")}`,
      );
    }
    if (fault.kind === "link-latency" && !(Number(fault.params.ms) > 0)) {
      throw new ConfigError(`link-latency on ${fault.target} needs params.ms > 0 (got ${String(fault.params.ms)})`);
    }
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    this.validate(fault);
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: 0 };
    if (fault.kind === "link-down") {
      await this.toxiproxy.setEnabled(fault.target, false);
      record.appliedAtMs = Date.now();
      return activeFault(record, async () => void (await this.toxiproxy.setEnabled(fault.target, true)));
    }
    const toxic = await this.toxiproxy.addToxic(fault.target, {
      type: "latency",
      name: id,
      attributes: { latency: Number(fault.params.ms), jitter: Number(fault.params.jitterMs ?? 0) },
    });
    record.appliedAtMs = Date.now();
    return activeFault(record, () => this.toxiproxy.removeToxic(fault.target, toxic.name));
  }
}
