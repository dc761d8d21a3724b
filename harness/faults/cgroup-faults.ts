import { ConfigError } from "../errors";
import type { MeshService, StartedMesh } from "../mesh/started-mesh";
import { ProcessCgroup } from "./cgroup";
import { needs, type FaultInjector } from "./injector";

/** The service a resource fault names, with a process the harness can put in a cgroup. */
function withPid(fault: { kind: string; target: string }, mesh: StartedMesh): MeshService & { pid: number } {
  const service = mesh.services[fault.target];
  if (!service)
    throw new ConfigError(
      `${fault.kind} fault target "${fault.target}" must be a service of the mesh (${Object.keys(mesh.services).join(", ")})`,
    );
  if (service.pid === undefined) throw new ConfigError(`${fault.target} has no process the harness can see`);
  return service as MeshService & { pid: number };
}

const cgroupWhyNot = needs("cgroup", "process the harness may put in a cgroup (launch it with meshproof)");

/** Only a process meshproof launched is put in a cgroup: the lifeline ends it; the group goes at the next one made. */
const cgroupLeftover = () => ({
  none:
    "only processes meshproof launched are put in a cgroup, and the lifeline ends them; the group itself is " +
    "removed by the next cgroup fault of any run (removeStaleGroups in cgroup-cleanup.ts)",
});

/** "stall" from outside: the process frozen blockMs every everyMs (a cgroup freezer), whatever its runtime. */
export const cgroupStall: FaultInjector<"stall"> = {
  via: "cgroup",
  whyNot: cgroupWhyNot,
  validate: (fault, mesh) => void withPid(fault, mesh),
  leftover: cgroupLeftover,
  async apply(fault, mesh, id) {
    const service = withPid(fault, mesh);
    const group = await ProcessCgroup.create(`${service.name}-${id}`, [service.pid]);
    const appliedAtMs = Date.now();
    const stop = group.stallEvery(fault.params.blockMs, fault.params.everyMs, fault.durationMs);
    return {
      appliedAtMs,
      revert: async () => {
        await stop();
        await group.destroy();
      },
    };
  },
};

/** "cpu-throttle": the process capped at a fraction of one core (a cgroup CPU quota). */
export const cgroupCpuThrottle: FaultInjector<"cpu-throttle"> = {
  via: "cgroup",
  whyNot: cgroupWhyNot,
  validate: (fault, mesh) => void withPid(fault, mesh),
  leftover: cgroupLeftover,
  async apply(fault, mesh, id) {
    const service = withPid(fault, mesh);
    const group = await ProcessCgroup.create(`${service.name}-${id}`, [service.pid]);
    await group.limitCpu(fault.params.fraction);
    return { appliedAtMs: Date.now(), revert: () => group.destroy() };
  },
};
