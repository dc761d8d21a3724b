import type { JaegerTrace } from "../../backends/trace-store";
import { ConfigError } from "../../errors";
import type { ActiveTarget, JaegerAnswers, MeshAnswers, PrometheusAnswers, TargetMetadata } from "./answers";
import { sampledTraces, serverProcesses } from "./sampled-traces";
import { portOf, servedAddress } from "./span-facts";
import { serviceTargets } from "./targets";

export interface FetchOptions {
  prometheusUrl: string;
  jaegerUrl: string;
  /** Traces read per server operation. Default 20. */
  tracesPerOperation?: number;
  /** How far back traces and series are read. Default 3600000 (an hour). */
  lookbackMs?: number;
  /** Server operations read per service, at most. Default 20. */
  operationsPerService?: number;
}

/**
 * Reads what init discovers a mesh from (the only part of it that touches the network): Jaeger's services, their
 * operations, the dependencies and sampled traces of every server operation; Prometheus's active targets, and the
 * metadata and counter/histogram series of each target that belongs to a traced service.
 */
export async function fetchAnswers(options: FetchOptions): Promise<MeshAnswers> {
  const jaeger = await fetchJaeger(options);
  const traces = sampledTraces(jaeger.traces);
  const processes = serverProcesses(jaeger.operations, traces);
  const ports = new Map<string, Set<string>>();
  for (const t of traces)
    for (const s of t.trace.spans) {
      const port = s.kind === "server" ? portOf(servedAddress(s) ?? "") : undefined;
      if (port) ports.set(s.service, (ports.get(s.service) ?? new Set()).add(port));
    }
  const prometheus = await fetchPrometheus(options.prometheusUrl, options.lookbackMs ?? 3_600_000, (targets) =>
    [...serviceTargets(targets, [...processes], ports).values()].map((m) => m.target),
  );
  return { prometheus, jaeger };
}

async function fetchJaeger(options: FetchOptions): Promise<JaegerAnswers> {
  const url = options.jaegerUrl.replace(/\/$/, "");
  const get = <T>(path: string) => getJson<{ data: T }>(`${url}${path}`, "Jaeger", "--jaeger");
  const services = ((await get<string[] | null>("/api/services")).data ?? []).sort();
  if (!services.length)
    throw new ConfigError(`Jaeger at ${url} knows no service yet: send a few requests through the mesh, then run init`);
  const operations: JaegerAnswers["operations"] = {};
  for (const service of services)
    operations[service] =
      (await get<{ name: string; spanKind: string }[] | null>(`/api/operations?service=${encodeURIComponent(service)}`))
        .data ?? [];
  const endMs = Date.now();
  const lookbackMs = options.lookbackMs ?? 3_600_000;
  const dependencies = await get<JaegerAnswers["dependencies"] | null>(
    `/api/dependencies?endTs=${endMs}&lookback=${lookbackMs}`,
  ).then(
    (answer) => answer.data ?? [],
    // Some storage backends compute no dependencies; they only add a cross-check.
    () => [],
  );
  const traces = new Map<string, JaegerTrace>();
  for (const [service, ops] of Object.entries(operations)) {
    const server = ops.filter((o) => o.spanKind === "server").slice(0, options.operationsPerService ?? 20);
    for (const op of server) {
      const params = new URLSearchParams({
        service,
        operation: op.name,
        limit: String(options.tracesPerOperation ?? 20),
        start: String((endMs - lookbackMs) * 1000),
        end: String(endMs * 1000),
      });
      for (const trace of (await get<JaegerTrace[] | null>(`/api/traces?${params}`)).data ?? [])
        traces.set(trace.traceID, trace);
    }
  }
  return { url, services, operations, dependencies, traces: [...traces.values()] };
}

async function fetchPrometheus(
  prometheusUrl: string,
  lookbackMs: number,
  ofServices: (targets: ActiveTarget[]) => ActiveTarget[],
): Promise<PrometheusAnswers> {
  const url = prometheusUrl.replace(/\/$/, "");
  const get = <T>(path: string, body?: URLSearchParams) =>
    getJson<{ data: T }>(`${url}${path}`, "Prometheus", "--prometheus", body);
  const active = (await get<{ activeTargets: ActiveTarget[] }>("/api/v1/targets?state=active")).data.activeTargets;
  const targets = active.map((t) => ({ labels: t.labels, scrapeUrl: t.scrapeUrl, health: t.health }));
  const metadata: TargetMetadata[] = [];
  const series: Record<string, string>[] = [];
  for (const target of ofServices(targets)) {
    const selector = `job=${JSON.stringify(target.labels.job ?? "")},instance=${JSON.stringify(target.labels.instance ?? "")}`;
    const found = (
      await get<TargetMetadata[]>(`/api/v1/targets/metadata?${new URLSearchParams({ match_target: `{${selector}}` })}`)
    ).data.map((m) => ({ target: m.target, metric: m.metric, type: m.type }));
    metadata.push(...found);
    const names = found.flatMap((m) =>
      m.type === "counter"
        ? [m.metric, `${m.metric}_total`]
        : m.type === "histogram" || m.type === "summary"
          ? [`${m.metric}_count`]
          : [],
    );
    if (!names.length) continue;
    const body = new URLSearchParams({
      "match[]": `{__name__=~"${[...new Set(names)].join("|")}",${selector}}`,
      start: String(Math.floor((Date.now() - lookbackMs) / 1000)),
    });
    series.push(...(await get<Record<string, string>[]>("/api/v1/series", body)).data);
  }
  return { url, targets, metadata, series };
}

/** GET (or POST a form) and parse JSON; errors say which API did not answer and which flag names it. */
async function getJson<T>(url: string, what: string, flag: string, body?: URLSearchParams): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { method: body ? "POST" : "GET", body, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new ConfigError(`${what} did not answer ${url} (${cause}): is ${flag} the base URL of a running ${what}?`);
  }
  const text = await response.text();
  if (!response.ok)
    throw new ConfigError(`${what} answered ${url} with ${response.status}: ${text.slice(0, 300)}; is ${flag} right?`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConfigError(`${what} answered ${url} with something not JSON (${text.slice(0, 120)}); is ${flag} right?`);
  }
}
