import { faultEffect } from "../../assertions/faults";
import fs from "node:fs";
import type { Exemplar, FaultRecord, LogLine, RequestRecord } from "../../assertions/evidence";
import type { Topology } from "../../assertions/expectations";
import {
  expectedSpans,
  explainFailure,
  isSuccess,
  spanCountRange,
  unexportedServices,
  withoutUnexported,
} from "../../assertions/trace-shape";
import type { PrometheusClient } from "../backends/prometheus";
import type { ExpectedTrace } from "./collect-traces";

/**
 * The span count each request's trace must reach: from its route's hops and its outcome (a failure a fault explains
 * stops at the failing hop); 1 (the edge span) for a failure nothing explains; 0 for a request sent unsampled.
 */
export function expectedTraces(
  requests: readonly RequestRecord[],
  topology: Topology,
  faults: readonly FaultRecord[],
  windowEndMs: number,
  edge: string,
): ExpectedTrace[] {
  return requests.map((r) => {
    if (r.parent === "unsampled") return { traceId: r.traceId, minSpans: 0 };
    if (r.parent === "none") return { traceId: r.responseTraceId ?? r.traceId, minSpans: r.responseSampled ? 1 : 0 };
    const hops = topology[r.route] ?? [];
    const explanation = isSuccess(r.status) ? undefined : explainFailure(r, hops, faults, windowEndMs, edge);
    const shapeUnknown = explanation && faultEffect(explanation.fault)?.shapeUnknown;
    // An overload's unanswered request may have reached no service: its trace may be absent.
    if (shapeUnknown && r.status === 0) return { traceId: r.traceId, minSpans: 0 };
    if (!isSuccess(r.status) && (!explanation || shapeUnknown)) return { traceId: r.traceId, minSpans: 1 };
    // Spans a killed process still held died with it (as the judge allows): not waited for.
    const shape = withoutUnexported(expectedSpans(hops, edge, explanation), unexportedServices(r, hops, faults, edge));
    return { traceId: r.traceId, minSpans: spanCountRange(shape).min };
  });
}

/**
 * Each service's structured log lines from its .jsonl file, from byte `from[service]` on (what a reused mesh wrote
 * before this scenario is not its evidence); lines that are not JSON are skipped.
 */
export function readJsonLogs(
  files: Record<string, string>,
  from: Record<string, number> = {},
): Record<string, LogLine[]> {
  const logs: Record<string, LogLine[]> = {};
  for (const [service, file] of Object.entries(files)) {
    const bytes = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    // A file shorter than where this scenario began was started afresh: all of it is this scenario's.
    const start = (from[service] ?? 0) <= bytes.length ? (from[service] ?? 0) : 0;
    const text = bytes.subarray(start).toString("utf8");
    logs[service] = text.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }
  return logs;
}

/** Each service's /metrics in the Prometheus text format (what promtool lints), fetched now. */
export async function fetchExpositions(metricsUrls: Record<string, string>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(metricsUrls).map(async ([service, url]) => {
      const response = await fetch(url, {
        headers: { accept: "text/plain;version=0.0.4" },
        signal: AbortSignal.timeout(5_000),
      });
      return [service, await response.text()] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Exemplars Prometheus stored for the job's series between startMs and endMs, with the trace id they carry. */
export async function collectExemplars(
  prometheus: PrometheusClient,
  job: string,
  startMs: number,
  endMs: number,
  traceIdLabel = "trace_id",
): Promise<Exemplar[]> {
  const series = await prometheus.queryExemplars(`{job="${job}"}`, startMs / 1000, endMs / 1000);
  return series.flatMap(({ seriesLabels, exemplars }) => {
    const { __name__: name = "", ...labels } = seriesLabels;
    return exemplars.flatMap((e) => {
      const traceId = e.labels[traceIdLabel];
      return traceId === undefined
        ? []
        : [{ name, labels, traceId, value: e.value, timestampMs: Math.round(e.timestampSec * 1000) }];
    });
  });
}
