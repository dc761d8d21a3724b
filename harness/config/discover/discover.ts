import type { Span } from "../../../assertions/trace-model";
import { ConfigError } from "../../errors";
import type { MeshConfig } from "../mesh-config";
import type { MeshAnswers } from "./answers";
import { answeredCallees } from "./calls";
import { chooseContracts } from "./contracts";
import { Notes, type Draft } from "./draft";
import { chooseEdge } from "./edge";
import { familiesOf, type Family } from "./metric-families";
import { discoverRoutes, mostCommon, type RoutesSeen } from "./routes";
import { sampledTraces, serverProcesses, type SampledTrace } from "./sampled-traces";
import { portOf, servedAddress } from "./span-facts";
import { meshJob, serviceTargets } from "./targets";
import { draftLinks, draftServices } from "./topology";

export interface DiscoverOptions {
  /** The edge's base URL (`--edge`); default: guessed from its root spans. */
  edgeUrl?: string;
  /** The config's name (`--name`); default: guessed from its metric names, else the edge's name. */
  name?: string;
  /** When the answers were read, for the header. */
  readAt: Date;
}

/**
 * A draft config of the mesh the answers describe: its edge and the routes sampled traces show it serving, each
 * route's hops in call order with their call counts, the services and datastores those reach, the links between
 * them, each service's Prometheus target and contract. Every guessed value carries a note saying what it was
 * guessed from; what could not be discovered is noted as a fill-in.
 */
export function discoverMesh(answers: MeshAnswers, options: DiscoverOptions): Draft {
  const notes = new Notes();
  const traces = sampledTraces(answers.jaeger.traces);
  const processes = serverProcesses(answers.jaeger.operations, traces);
  const servers = serverSpans(traces);
  const ports = new Map(
    [...servers].map(([s, spans]) => [s, new Set(spans.flatMap((x) => portOf(servedAddress(x) ?? "") ?? []))]),
  );
  const matched = serviceTargets(answers.prometheus.targets, [...processes], ports);
  const edge = chooseEdge(traces, options.edgeUrl, new Map([...matched].map(([s, m]) => [s, m.target])), notes);
  const context = { processes, callees: answeredCallees(traces), unknown: new Set<string>() };
  const seen = discoverRoutes(traces, edge.service, context, notes);
  if (!Object.keys(seen.routes).length)
    throw new ConfigError(
      `no route of ${edge.service} calls another service in the ${traces.length} sampled traces${seen.skipped.length ? ` (seen: ${seen.skipped.join("; ")})` : ""}: send requests that cross the mesh, then run init again`,
    );
  const inMesh = new Set([edge.service, ...seen.hops.flatMap((h) => [h.hop.from, h.hop.to])]);
  for (const service of matched.keys()) if (!inMesh.has(service)) matched.delete(service);
  const job = meshJob(matched, answers.prometheus.targets, notes);
  const families = new Map<string, Map<string, Family>>(
    [...matched].map(([s, m]) => [s, familiesOf(m.target, answers.prometheus.metadata, answers.prometheus.series)]),
  );
  const name = options.name ?? guessName(families.get(edge.service), edge.service, notes);
  const evidence = [...inMesh]
    .filter((s) => processes.has(s))
    .map((service) => ({
      service,
      spans: spansOf(traces, service),
      ...(families.has(service) ? { families: families.get(service)! } : {}),
    }));
  const contracts = chooseContracts(evidence, name, notes);
  const config: MeshConfig = {
    name,
    traces: { jaegerQueryUrl: answers.jaeger.url },
    prometheus: { url: answers.prometheus.url, job },
    services: draftServices(
      {
        edge,
        hops: seen.hops,
        serverSpans: servers,
        targets: matched,
        contracts: contracts.byService,
        languages: languages(answers),
        operations: answers.jaeger.operations,
      },
      notes,
    ),
    links: draftLinks(seen.hops, notes),
    routes: seen.routes,
  };
  noteUnseen(answers, seen, context.unknown, inMesh, notes);
  notes.say(["traces"], "the Jaeger query API init read");
  return { config, contracts: contracts.files, notes, header: header(answers, traces.length, options.readAt) };
}

function serverSpans(traces: readonly SampledTrace[]): Map<string, Span[]> {
  const byService = new Map<string, Span[]>();
  for (const t of traces)
    for (const s of t.trace.spans)
      if (s.kind === "server") byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  return byService;
}

function spansOf(traces: readonly SampledTrace[], service: string): Span[] {
  return traces.flatMap((t) => t.trace.spans.filter((s) => s.service === service));
}

function languages(answers: MeshAnswers): Map<string, string> {
  const found = new Map<string, string>();
  for (const t of answers.jaeger.traces)
    for (const p of Object.values(t.processes) as { serviceName: string; tags?: { key: string; value: unknown }[] }[]) {
      const language = p.tags?.find((tag) => tag.key === "telemetry.sdk.language")?.value;
      if (typeof language === "string") found.set(p.serviceName, language);
    }
  return found;
}

/** The first word its request metrics share ("hotrod" of hotrod_requests_total), else the edge's name. */
function guessName(families: ReadonlyMap<string, Family> | undefined, edge: string, notes: Notes): string {
  const words = [...(families?.values() ?? [])]
    .filter((f) => f.type === "counter" && !/^(go|process|promhttp|nodejs|http|grpc|rpc)_/.test(f.name))
    .map((f) => f.name.split("_")[0]!);
  const [word, times] = mostCommon(words);
  const name = word && times === words.length ? word : edge;
  notes.guess(["name"], name === edge ? `the edge's name` : `the prefix of ${edge}'s request metrics (${name}_*)`);
  notes.say(["name"], "the report names the mesh by it, and its capacity is stored under it");
  return name;
}

function noteUnseen(answers: MeshAnswers, seen: RoutesSeen, unknown: Set<string>, inMesh: Set<string>, notes: Notes) {
  if (seen.skipped.length) notes.say(["routes"], `left out: ${seen.skipped.join("; ")}`);
  if (unknown.size)
    notes.say(["routes"], `client spans that say nothing of what they call, left out: ${[...unknown].join(", ")}`);
  // Jaeger links a span's service to its children's: a hop reported in-process shows as caller -> reporter.
  const hops = new Set(seen.hops.map((h) => `${h.hop.from}>${h.hop.reportedBy ?? h.hop.to}`));
  const missing = answers.jaeger.dependencies.filter(
    (d) => d.parent !== d.child && !hops.has(`${d.parent}>${d.child}`),
  );
  if (missing.length)
    notes.fillIn(
      ["routes"],
      `Jaeger saw calls no sampled route makes (${missing.map((d) => `${d.parent} -> ${d.child} x${d.callCount}`).join(", ")}): a route that makes them`,
    );
  const others = answers.jaeger.services.filter(
    (s) => !inMesh.has(s) && !seen.hops.some((h) => h.hop.reportedBy === s),
  );
  if (others.length) notes.say(["services"], `in Jaeger but on no sampled route, left out: ${others.join(", ")}`);
}

function header(answers: MeshAnswers, traces: number, readAt: Date): string[] {
  return [
    `A draft written by \`npm run init\` at ${readAt.toISOString()} from Prometheus ${answers.prometheus.url} and`,
    `Jaeger ${answers.jaeger.url} (${plural(answers.prometheus.targets.length, "active target")}, ${plural(traces, "sampled trace")}).`,
    "Every `// guess:` says what a value was guessed from, every `// fill in:` what could not be discovered:",
    "check them before trusting a verdict. Declared with defineConfig(); validated strictly when loaded.",
  ];
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
