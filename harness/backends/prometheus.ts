import fs from "node:fs";
import path from "node:path";
import { LOOPBACK } from "../util/ports";
import { httpOk, renderTemplate, startComponent, type ComponentRunner, type StartedComponent } from "./component";

export interface ScrapeTarget {
  /** host:port */
  address: string;
  labels?: Record<string, string>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PromExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: number; timestampSec: number }[];
}

export interface PromSeries {
  metric: Record<string, string>;
  values: [timeSec: number, value: number][];
}

/** Reads a Prometheus through its HTTP API: instant and range queries, metadata, exemplars. */
export class PrometheusClient {
  constructor(readonly url: string) {}

  /** Instant query; time in seconds since the epoch (default: now). */
  async query(promql: string, timeSec?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: promql });
    if (timeSec !== undefined) params.set("time", String(timeSec));
    const data = await this.api<{
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>("query", params);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async queryRange(promql: string, startSec: number, endSec: number, stepSec: number): Promise<PromSeries[]> {
    const params = new URLSearchParams({
      query: promql,
      start: String(startSec),
      end: String(endSec),
      step: String(stepSec),
    });
    const data = await this.api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
      "query_range",
      params,
    );
    return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)]) }));
  }

  /** Type, help and unit of every metric family of the scraped targets (/api/v1/metadata). */
  async metadata(): Promise<Record<string, { type: string; help?: string; unit?: string }>> {
    const data = await this.api<Record<string, { type: string; help?: string; unit?: string }[]>>(
      "metadata",
      new URLSearchParams(),
      "GET",
    );
    return Object.fromEntries(
      Object.entries(data).flatMap(([name, entries]) => (entries[0] ? [[name, entries[0]]] : [])),
    );
  }

  /** Exemplars of the series the selector matches, stored between startSec and endSec (/api/v1/query_exemplars). */
  async queryExemplars(promql: string, startSec: number, endSec: number): Promise<PromExemplarSeries[]> {
    const params = new URLSearchParams({ query: promql, start: String(startSec), end: String(endSec) });
    const data = await this.api<
      {
        seriesLabels: Record<string, string>;
        exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
      }[]
    >("query_exemplars", params);
    return data.map((s) => ({
      seriesLabels: s.seriesLabels,
      exemplars: s.exemplars.map((e) => ({ labels: e.labels, value: Number(e.value), timestampSec: e.timestamp })),
    }));
  }

  private async api<T>(endpoint: string, params: URLSearchParams, method: "GET" | "POST" = "POST"): Promise<T> {
    const query = method === "GET" && [...params].length ? `?${params}` : "";
    const response = await fetch(`${this.url}/api/v1/${endpoint}${query}`, {
      method,
      body: method === "POST" ? params : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`Prometheus ${endpoint} ${params.get("query")}: ${body.error}`);
    return body.data;
  }
}

/** A started Prometheus: scrape interval 1 s, targets from file_sd (addTargets), exemplar storage on. */
export class StartedPrometheus extends PrometheusClient {
  private readonly targetsDir: string;

  constructor(readonly component: StartedComponent<"http">) {
    super(`http://${LOOPBACK}:${component.ports.http}`);
    this.targetsDir = path.join(component.dir, "targets");
  }

  /** Replaces the scrape targets of one job (file_sd; picked up within about a second). */
  addTargets(job: string, targets: readonly ScrapeTarget[]): void {
    const groups = targets.map((t) => ({ targets: [t.address], labels: { job, ...t.labels } }));
    const file = path.join(this.targetsDir, `${job}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
    fs.renameSync(`${file}.tmp`, file); // atomic: Prometheus never reads a half-written file
  }

  removeTargets(job: string): void {
    fs.rmSync(path.join(this.targetsDir, `${job}.json`), { force: true });
  }
}

export async function startPrometheus(
  runner: ComponentRunner,
  runDir: string,
  fixedPort?: number,
): Promise<StartedPrometheus> {
  const component = await startComponent(
    {
      name: "prometheus",
      portNames: ["http"],
      fixedPorts: fixedPort === undefined ? {} : { http: fixedPort },
      args: (ports, dir) => {
        const targets = path.join(dir, "targets");
        fs.mkdirSync(targets, { recursive: true });
        const config = renderTemplate("prometheus.yml", { TARGETS_DIR: targets });
        fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
        return [
          `--config.file=${path.join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${path.join(dir, "data")}`,
          `--web.listen-address=${LOOPBACK}:${ports.http}`,
          "--enable-feature=exemplar-storage",
          "--storage.tsdb.retention.time=1d",
        ];
      },
      ready: (ports) => httpOk(`http://${LOOPBACK}:${ports.http}/-/ready`),
      readyDescription: (ports) => `GET http://${LOOPBACK}:${ports.http}/-/ready`,
    },
    runDir,
    runner,
  );
  return new StartedPrometheus(component);
}
