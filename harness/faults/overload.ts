import { ConfigError } from "../errors";
import type { FaultInjector } from "./injector";

/**
 * "overload": the load itself above capacity, declared as the cause of the failures it brings. Nothing is injected;
 * the journal records when the scenario says its load exceeds capacity. Target: the edge service.
 */
export const overload: FaultInjector<"overload"> = {
  via: "load",
  whyNot: () => undefined,
  validate(fault, mesh) {
    const edge = Object.values(mesh.services).find((s) => s.role === "edge");
    if (fault.target !== edge?.name)
      throw new ConfigError(`overload target "${fault.target}" must be the edge service (${edge?.name ?? "none"})`);
  },
  leftover: () => ({ via: "load" }),
  async apply(fault, mesh) {
    this.validate(fault, mesh);
    return { appliedAtMs: Date.now(), revert: async () => {} };
  },
};
