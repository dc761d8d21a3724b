import type { ToxicSpec, ToxiproxyClient } from "../backends/toxiproxy";
import { ConfigError } from "../errors";
import { activeFault, type ActiveFault, type FaultInjector, type FaultPlan } from "./faults";

/**
 * Network faults on the mesh's links (Toxiproxy proxies): "link-down" disables the proxy (connections closed, new
 * ones refused); toxics: "link-latency" ({ms, jitterMs}), "link-timeout" (no data either way; closed after timeoutMs,
 * or held while 0), "link-reset" (TCP RST after timeoutMs), "link-bandwidth" ({kbPerSec} both ways).
 */
export class NetworkFaultInjector implements FaultInjector {
  readonly kinds = ["link-down", "link-latency", "link-timeout", "link-reset", "link-bandwidth"] as const;

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
    if (fault.kind === "link-bandwidth" && !(Number(fault.params.kbPerSec) > 0)) {
      throw new ConfigError(
        `link-bandwidth on ${fault.target} needs params.kbPerSec > 0 (got ${String(fault.params.kbPerSec)})`,
      );
    }
  }

  async apply(fault: FaultPlan, id: string): Promise<ActiveFault> {
    this.validate(fault);
    const toxiproxy = this.toxiproxy!;
    const proxy = this.links[fault.target]!;
    const record = { id, kind: fault.kind, target: fault.target, params: fault.params, appliedAtMs: Date.now() };
    if (fault.kind === "link-down") {
      await toxiproxy.setEnabled(proxy, false);
      return activeFault(record, async () => void (await toxiproxy.setEnabled(proxy, true)));
    }
    const toxics = TOXICS[fault.kind as keyof typeof TOXICS](fault.params).map((t, i) => ({
      ...t,
      name: `${id}-${i}`,
    }));
    for (const toxic of toxics) await toxiproxy.addToxic(proxy, toxic);
    return activeFault(record, async () => {
      await Promise.all(toxics.map((t) => toxiproxy.removeToxic(proxy, t.name)));
    });
  }
}

/** Each toxic kind as Toxiproxy toxics: both directions where the fault is about the link, not one answer. */
const TOXICS = {
  "link-latency": (p: Record<string, unknown>): ToxicSpec[] => [
    { type: "latency", attributes: { latency: Number(p.ms), jitter: Number(p.jitterMs ?? 0) } },
  ],
  "link-timeout": (p: Record<string, unknown>): ToxicSpec[] =>
    (["upstream", "downstream"] as const).map((stream) => ({
      type: "timeout",
      stream,
      attributes: { timeout: Number(p.timeoutMs) },
    })),
  "link-reset": (p: Record<string, unknown>): ToxicSpec[] => [
    { type: "reset_peer", attributes: { timeout: Number(p.timeoutMs) } },
  ],
  "link-bandwidth": (p: Record<string, unknown>): ToxicSpec[] =>
    (["upstream", "downstream"] as const).map((stream) => ({
      type: "bandwidth",
      stream,
      attributes: { rate: Number(p.kbPerSec) },
    })),
};
