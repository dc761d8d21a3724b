import type { ActiveTarget } from "./answers";
import type { Notes } from "./draft";
import { mostCommon } from "./routes";
import { serviceName } from "./span-facts";

/** Target labels that commonly name the service a target scrapes, most specific first. */
const NAMING_LABELS = ["service", "service_name", "app", "app_kubernetes_io_name", "k8s_app", "container", "job"];

/**
 * The Prometheus target of each service: the active target one of whose naming labels (service, app, job, ...) is
 * the service's name, else the one at a port the service's server spans were reached at. Says how, per service.
 */
export function serviceTargets(
  targets: readonly ActiveTarget[],
  services: readonly string[],
  servedPorts: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, { target: ActiveTarget; how: string }> {
  const found = new Map<string, { target: ActiveTarget; how: string }>();
  for (const service of services) {
    const byLabel = NAMING_LABELS.flatMap((label) => {
      const target = targets.find((t) => t.labels[label] !== undefined && serviceName(t.labels[label]) === service);
      return target ? [{ target, how: `its ${label} label is ${target.labels[label]}` }] : [];
    })[0];
    const ports = servedPorts.get(service) ?? new Set();
    const byPort = targets.find((t) => ports.has(/:(\d+)$/.exec(t.labels.instance ?? "")?.[1] ?? ""));
    const match =
      byLabel ?? (byPort && { target: byPort, how: `its instance's port is where ${service}'s spans were served` });
    if (match) found.set(service, match);
  }
  return found;
}

/**
 * The job the run reads the services' series under (one per config): the most common job of their targets.
 * Services whose target is in another job lose it, with a note.
 */
export function meshJob(
  matched: Map<string, { target: ActiveTarget; how: string }>,
  targets: readonly ActiveTarget[],
  notes: Notes,
): string {
  const [job] = mostCommon([...matched.values()].map((m) => m.target.labels.job ?? ""));
  if (job) {
    notes.guess(["prometheus"], `job ${job}: the job of the targets of ${[...matched.keys()].join(", ")}`);
    for (const [service, m] of matched)
      if (m.target.labels.job !== job) {
        notes.say(["services", service], `its target is in job ${m.target.labels.job}, not ${job}: no metricsUrl`);
        matched.delete(service);
      }
    return job;
  }
  const any = targets[0]?.labels.job ?? "mesh";
  notes.guess(["prometheus"], `no active target belongs to a traced service; job ${any} is a placeholder`);
  notes.fillIn([], `prometheus.job: the scrape job of the services' /metrics (no target matched a service)`);
  return any;
}
