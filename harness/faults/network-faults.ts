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
    private readonly toxiproxy: ToxiproxyClient | undefined,
    /** The mesh's links routed through Toxiproxy: link name -> proxy name. */
    private readonly links: Readonly<Record<string, string>>,
  ) {}

  validate(fault: FaultPlan): void {
    if (!this.toxiproxy || !(fault.target in this.links)) {
      throw new ConfigError(
        `fault target "${fault.target}" is not a link of the mesh routed through Toxiproxy; links: ${Object.keys(this.links).join(", ") || "none"}`,
      );
    }
    if (fault.kind === "link-latency" && !(Number(fault.params.ms) > 0)) {
      throw new ConfigError(`link-latency on ${fault.target} needs params.ms > 0 (got ${String(fault.params.ms)})`);
    }
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    this.validate(fault);
    const toxiproxy = this.toxiproxy!;
    const proxy = this.links[fault.target]!;
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: 0 };
    if (fault.kind === "link-down") {
      await toxiproxy.setEnabled(proxy, false);
      record.appliedAtMs = Date.now();
      return activeFault(record, async () => void (await toxiproxy.setEnabled(proxy, true)));
    }
    const toxic = await toxiproxy.addToxic(proxy, {
      type: "latency",
      name: id,
      attributes: { latency: Number(fault.params.ms), jitter: Number(fault.params.jitterMs ?? 0) },
    });
    record.appliedAtMs = Date.now();
    return activeFault(record, () => toxiproxy.removeToxic(proxy, toxic.name));
  }
}
