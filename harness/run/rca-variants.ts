import type { FaultSpec } from "../../assertions/faults";
import type { Scenario } from "../../scenarios/lib/scenario-model";
import { datastoreLinks, edgeOf, leafCalls, serviceLinks } from "../../scenarios/lib/template";
import type { MeshTopology } from "../../scenarios/lib/topology";

/**
 * Intensities the RCA benchmark cycles through, run by run (RCAEval injects each fault kind at several): a quarter,
 * half and three quarters of a core; 64, 128 and 256 MB held; 100, 250 and 500 ms added; a fifth to half of the calls
 * failed. Below those the request log cannot show the fault: 50 ms added stays under a window's slow threshold
 * (steady p99 + 50 ms), and a tenth of a method's calls failed 2 of 67 checkouts in a 3 s fault (no window can tell
 * that from chance); both missed in the first benchmark here.
 */
const LADDER = {
  fraction: [0.25, 0.5, 0.75],
  mb: [64, 128, 256],
  ms: [100, 250, 500],
  rate: [0.2, 0.3, 0.5],
  blockMs: [300, 600, 800],
  kbPerSec: [1, 2, 4],
} as const;

/**
 * The fault scenarios of a bound catalog for one run of the RCA benchmark: every fault moved to the run-th target of
 * its kind among those the mesh offers the same means for (a service fault among the services, a method fault among
 * the leaf methods, a link fault among the links of its sort), at the run-th intensity of its ladder. Only the fault
 * journal matters to the benchmark (it scores localisation), so a variant's expectations are the scenario's own.
 * Scenarios with two faults keep their targets (their pairing is the scenario) and change intensity only.
 */
export function rcaVariants(scenarios: readonly Scenario[], mesh: MeshTopology, run: number): Scenario[] {
  return scenarios
    .filter((s) => s.faults.length > 0 && s.faults.every((f) => f.kind !== "overload"))
    .map((s) => ({
      ...s,
      name: `${s.name}-run${run + 1}`,
      faults: s.faults.map((f) => vary(f, s.faults.length === 1 ? targets(f, mesh) : [f.target], run)),
    }));
}

/** Where a fault of this kind can go in this mesh, its own target first. */
function targets(fault: FaultSpec, mesh: MeshTopology): string[] {
  const edge = edgeOf(mesh);
  const { means } = mesh;
  const within = (list: readonly string[]) => (list.includes(fault.target) ? list : [fault.target]);
  let candidates: readonly string[];
  if (fault.target.includes(".")) {
    candidates = leafCalls(mesh)
      .filter((c) => c.method && means.admin.includes(c.service))
      .map((c) => `${c.service}.${c.method}`);
  } else if (means.links.includes(fault.target)) {
    const datastore = datastoreLinks(mesh).map((d) => d.link);
    candidates = (datastore.includes(fault.target) ? datastore : serviceLinks(mesh)).filter((l) =>
      means.links.includes(l),
    );
  } else {
    const byKind: Record<string, readonly string[]> = {
      cpu: means.admin,
      memory: means.admin,
      stall: means.admin,
      "cpu-throttle": means.cgroup,
      "process-stall": means.cgroup,
      freeze: means.signal,
      kill: means.restart,
      restart: means.restart,
    };
    // The edge is where the driver's requests arrive: stopping it is an outage of everything, not a fault to place.
    candidates = (byKind[fault.kind] ?? [fault.target]).filter((s) => s !== edge || fault.kind === "cpu");
  }
  const unique = [...new Set(within(candidates))];
  return [fault.target, ...unique.filter((t) => t !== fault.target)];
}

function vary(fault: FaultSpec, candidates: readonly string[], run: number): FaultSpec {
  const params: Record<string, unknown> = { ...fault.params };
  for (const [key, ladder] of Object.entries(LADDER))
    if (typeof params[key] === "number") params[key] = ladder[run % ladder.length];
  return { ...fault, target: candidates[run % candidates.length]!, params } as FaultSpec;
}
