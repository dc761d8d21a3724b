import type { MetricContract } from "../contract";
import type { AssertionResult, MetricSample, ServiceInfo } from "../evidence";
import { RED_ROLES, requiredKeys } from "../metric-labels";
import { select, seriesKey } from "../metric-query";
import { noMetricsReason, type MetricView } from "../metric-view";
import { Findings, notPromised, verdict } from "../result";
import { HISTOGRAM_PARTS, HYGIENE_ASSERTIONS } from "./ids";

/** One declared metric of a service's contract, and the label keys every one of its series must carry. */
interface Declared {
  /** Where the contract declares it ("httpServerRequests"). */
  key: string;
  metric: MetricContract;
  keys: string[];
}

/** Every metric a contract declares with its keys: the RED metrics (with the keys the judge reads) and faultsInjected. */
function declared(metrics: MetricView, service: ServiceInfo): Declared[] {
  const contract = metrics.contract(service);
  const red = RED_ROLES.flatMap((role) => {
    const metric = contract[role.key];
    return metric ? [{ key: role.key, metric, keys: requiredKeys(contract, role, metric) }] : [];
  });
  const faults = contract.faultsInjected;
  return faults ? [...red, { key: "faultsInjected", metric: faults, keys: faults.labelKeys }] : red;
}

/** The series of one declared metric of a service at the end of the run (each part of a histogram). */
function seriesOf(metrics: MetricView, service: ServiceInfo, metric: MetricContract): MetricSample[] {
  const names = metric.type === "histogram" ? HISTOGRAM_PARTS.map((p) => metric.name + p) : [metric.name];
  const where = { [metrics.contract(service).labels.instance]: service.instance };
  return names.flatMap((name) => select(metrics.end, { name, where }));
}

/**
 * The contract's label keys hold: every series of every metric a service's contract declares carries the label keys
 * the contract declares for it (and those the judge reads its operation and code by). Told once, before any family
 * judges: a series lacking a key is left out of every tally (MetricView.select), never merged with others under
 * "undefined"; this is where that is said, per service, metric, series name and key.
 */
export function contractLabels(metrics: MetricView): AssertionResult {
  const id = HYGIENE_ASSERTIONS.contractLabels;
  const services = metrics.withMetrics;
  const without = metrics.withoutMetrics;
  if (services.length === 0 && without.length)
    return notPromised(id, "hygiene", `no service to judge: ${noMetricsReason(without)}`);
  const findings = new Findings();
  const lacking: Record<string, Record<string, number>> = {};
  let compared = 0;
  for (const service of services) {
    const contract = metrics.contract(service);
    for (const { key, metric, keys } of declared(metrics, service)) {
      const series = seriesOf(metrics, service, metric);
      compared += series.length;
      for (const label of keys) {
        const bad = series.filter((s) => s.labels[label] === undefined);
        if (!bad.length) continue;
        const byName = new Map<string, MetricSample>();
        for (const s of bad) byName.set(s.name, byName.get(s.name) ?? s);
        for (const [name, example] of byName) {
          const n = bad.filter((s) => s.name === name).length;
          (lacking[service.name] ??= {})[`${name} ${label}`] = n;
          findings.add({
            expected: `"${label}" on every ${name} series (contract "${contract.name}" ${key})`,
            observed: `${n} of ${series.filter((s) => s.name === name).length} lack it`,
            on: `${service.name} ${name}`,
            service: service.name,
            detail: `${service.name}: ${n} of ${series.filter((s) => s.name === name).length} ${name} series lack "${label}" (contract "${contract.name}" ${key}), e.g. ${name}{${seriesKey(example.labels)}}: left out of every tally`,
          });
        }
      }
    }
  }
  return verdict(
    id,
    "hygiene",
    findings,
    {
      passed: "every series of every declared metric carries the label keys its contract declares",
      failed: "series lack label keys their contract declares",
    },
    {
      compared,
      minimum: services.length,
      what: "series",
      because: `${services.length} services exposing their contract's metrics`,
    },
    { everySeriesCarries: "its metric's declared label keys" },
    { lacking, ...(without.length ? { withoutMetrics: without } : {}) },
  );
}
