import type { MetricSample, MetricSeries } from "../../assertions/evidence";
import { canonicalLabels } from "../../assertions/metric-query";
import type { PrometheusClient } from "../backends/prometheus";
import { retryUntil } from "../util/retry";

/** Every series of one scrape job at one instant (default now), as evidence samples. */
export async function snapshot(prometheus: PrometheusClient, job: string, timeSec?: number): Promise<MetricSample[]> {
  const samples = await prometheus.query(`{job="${job}"}`, timeSec);
  return samples.map(({ metric, value }) => ({ ...splitName(metric), value }));
}

/** Range series of the selected metric names over [startSec, endSec] at stepSec. */
export async function rangeSeries(
  prometheus: PrometheusClient,
  job: string,
  names: readonly string[],
  startSec: number,
  endSec: number,
  stepSec = 1,
): Promise<MetricSeries[]> {
  const selector = `{job="${job}",__name__=~"${names.map(escapeRegex).join("|")}"}`;
  const series = await prometheus.queryRange(selector, startSec, endSec, stepSec);
  return series.map(({ metric, values }) => ({ ...splitName(metric), values }));
}

/** How many scrape targets a mesh's services are: one per /metrics (services may share one, or have none). */
export function scrapeTargetCount(services: readonly { metricsUrl?: string }[]): number {
  return new Set(services.flatMap((s) => (s.metricsUrl ? [s.metricsUrl] : []))).size;
}

/**
 * Waits until every target of the job has been scraped at least twice after afterMs (its latest scrape is at least
 * one scrape interval later), so counters include every request that ended before afterMs.
 */
export async function awaitScrapesAfter(
  prometheus: PrometheusClient,
  job: string,
  targets: number,
  afterMs: number,
  options: { scrapeIntervalMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const thresholdSec = (afterMs + (options.scrapeIntervalMs ?? 1_000)) / 1000;
  await retryUntil(
    () => prometheus.query(`timestamp(up{job="${job}"} == 1)`),
    (samples) => samples.length >= targets && samples.every((s) => s.value >= thresholdSec),
    {
      timeoutMs: options.timeoutMs ?? 15_000,
      description: `2 scrapes of all ${targets} "${job}" targets after ${new Date(afterMs).toISOString()}`,
      initialDelayMs: 50,
      maxDelayMs: 200,
    },
  );
}

function splitName(metric: Record<string, string>): { name: string; labels: Record<string, string> } {
  const { __name__: name = "", ...labels } = metric;
  return { name, labels: canonicalLabels(labels) };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
