import type { HopProtocol } from "../../../assertions/expectations";
import type { Span } from "../../../assertions/trace-model";
import type { LinkConfig, ServiceConfig } from "../mesh-config";
import type { ActiveTarget } from "./answers";
import type { Notes } from "./draft";
import type { HopSeen } from "./routes";
import { attr, isLoopback, spanProtocol } from "./span-facts";

/** What the services of a draft are built from. */
export interface ServiceFacts {
  edge: { service: string; url: string };
  hops: readonly HopSeen[];
  /** The server spans sampled per service. */
  serverSpans: ReadonlyMap<string, Span[]>;
  targets: ReadonlyMap<string, { target: ActiveTarget; how: string }>;
  contracts: Record<string, string>;
  /** The SDK language each service's tracer reports (telemetry.sdk.language). */
  languages: ReadonlyMap<string, string>;
  /** Server operation names per service, as Jaeger lists them. */
  operations: Record<string, { name: string; spanKind: string }[]>;
}

/** The services the routes reach: the edge, every process a hop names, and the datastores called from a process. */
export function draftServices(facts: ServiceFacts, notes: Notes): Record<string, ServiceConfig> {
  const services: Record<string, ServiceConfig> = {};
  const names = [
    facts.edge.service,
    ...facts.hops.flatMap((h) => [h.hop.from, h.hop.reportedBy ? [] : h.hop.to].flat()),
  ];
  for (const name of new Set(names)) {
    const datastore = facts.hops.find((h) => h.hop.to === name && h.uninstrumented && !h.hop.reportedBy);
    services[name] = datastore ? datastoreService(name, datastore, notes) : processService(name, facts, notes);
  }
  return services;
}

function datastoreService(name: string, seen: HopSeen, notes: Notes): ServiceConfig {
  notes.guess(
    ["services", name],
    `${seen.hop.from} calls it (${[...seen.spans].join(", ")}) and no server span answers: a datastore, or a service that reports no traces`,
  );
  return { role: "datastore", protocol: seen.hop.protocol };
}

function processService(name: string, facts: ServiceFacts, notes: Notes): ServiceConfig {
  const path = ["services", name];
  const edge = name === facts.edge.service;
  if (edge && !notes.aboveOf([...path, "url"]).length) notes.say([...path, "url"], "--edge");
  const protocol = serverProtocol(facts.serverSpans.get(name) ?? []);
  notes.guess(
    [...path, "protocol"],
    `its server spans carry ${protocol === "grpc" ? "rpc.system" : "HTTP attributes"}`,
  );
  const target = facts.targets.get(name);
  const scrapeUrl = target?.target.scrapeUrl.replace("//localhost:", "//127.0.0.1:");
  const metricsUrl = scrapeUrl && /^https?:\/\/127\.0\.0\.1[:/]/.test(scrapeUrl) ? scrapeUrl : undefined;
  if (metricsUrl) {
    notes.guess(
      [...path, "metricsUrl"],
      `the scrape URL of Prometheus target ${target!.target.labels.instance} (${target!.how})`,
    );
    if (target!.target.health !== "up") notes.say([...path, "metricsUrl"], `that target was ${target!.target.health}`);
  } else
    notes.say(
      path,
      target
        ? `its target's scrape URL ${target.target.scrapeUrl} is not on 127.0.0.1: no metricsUrl`
        : "no Prometheus target names it: no metricsUrl (none of its metrics are judged)",
    );
  const runtime = runtimeOf(facts.languages.get(name));
  if (runtime) notes.guess([...path, "runtime"], `its tracer's telemetry.sdk.language is ${facts.languages.get(name)}`);
  const operations = declaredOperations(facts.serverSpans.get(name) ?? [], protocol);
  if (operations)
    notes.guess(
      [...path, "operations"],
      protocol === "grpc"
        ? "the rpc.service and rpc.method of its sampled server spans"
        : "the http.route of its sampled server spans: a route label outside them fails hygiene.route-labels",
    );
  const names = (facts.operations[name] ?? []).filter((o) => o.spanKind === "server").map((o) => o.name);
  notes.fillIn(path, "healthzUrl, readyzUrl: its liveness and readiness probes, if it has them");
  notes.fillIn(path, "pid or container: for process faults (freeze, kill) on a mesh you started");
  if (facts.hops.some((h) => h.hop.from === name))
    notes.fillIn(path, "errors: the status it answers when a call it makes fails (grpc, http5xx, noAnswer, datastore)");
  if (!operations && names.length)
    notes.fillIn(path, `operations: its route templates or gRPC methods (its server spans: ${names.join(", ")})`);
  return {
    ...(edge ? { role: "edge" as const } : {}),
    protocol,
    ...(edge ? { url: facts.edge.url } : {}),
    ...(metricsUrl ? { metricsUrl } : {}),
    contract: facts.contracts[name]!,
    ...(operations ? { operations } : {}),
    ...(runtime ? { runtime } : {}),
  };
}

/**
 * The operations a service declares, when every server span names a template: "METHOD /route" from http.route (a
 * raw path could hold ids), "pkg.Service/Method" for gRPC. Undefined when one does not.
 */
function declaredOperations(spans: readonly Span[], protocol: HopProtocol): string[] | undefined {
  const operations = spans.map((s) => {
    if (protocol === "grpc") {
      const method = attr(s, "rpc.method");
      const service = attr(s, "rpc.service");
      return method?.includes("/") || !service ? method : `${service}/${method}`;
    }
    const method = attr(s, "http.request.method", "http.method");
    const route = attr(s, "http.route");
    return method && route ? `${method} ${route}` : undefined;
  });
  if (!operations.length || operations.some((o) => o === undefined)) return undefined;
  return [...new Set(operations as string[])].sort();
}

function serverProtocol(spans: readonly Span[]): HopProtocol {
  return spans.some((s) => spanProtocol(s) === "grpc") ? "grpc" : "http";
}

function runtimeOf(language: string | undefined): string | undefined {
  if (language === "nodejs" || language === "node") return "node";
  return language === "go" ? "go" : undefined;
}

/**
 * A link per caller and callee a route's hops name (in-process datastore clients have none), at the address the
 * caller's spans say it called; an address not on 127.0.0.1 is left for the user.
 */
export function draftLinks(hops: readonly HopSeen[], notes: Notes): Record<string, LinkConfig> {
  const links: Record<string, LinkConfig> = {};
  notes.say(
    ["links"],
    "meshproof proxies each link of a mesh you started: point the caller at the address `npm run mesh:plan -- --config FILE` prints, or link faults act on a path no call takes",
  );
  const byPair = new Map<string, HopSeen[]>();
  for (const h of hops.filter((h) => !h.hop.reportedBy)) {
    const key = `${h.hop.from}-${h.hop.to}`;
    byPair.set(key, [...(byPair.get(key) ?? []), h]);
  }
  for (const [name, seen] of byPair) {
    const addresses = new Map<string, number>();
    for (const h of seen) for (const [a, n] of h.addresses) addresses.set(a, (addresses.get(a) ?? 0) + n);
    const [address, times] = [...addresses].sort((a, b) => b[1] - a[1])[0] ?? [];
    const { from, to, protocol } = seen[0]!.hop;
    const loopback = address?.replace(/^localhost:/, "127.0.0.1:");
    if (!loopback || !isLoopback(loopback)) {
      notes.fillIn(["links"], `${name}: the host:port ${from} calls ${to} at (its spans say ${address ?? "nothing"})`);
      continue;
    }
    links[name] = { from, to, protocol, address: loopback };
    notes.guess(
      ["links", name],
      `${times} of ${from}'s client spans to ${to} called ${address} (server.address, server.port)`,
    );
    if (addresses.size > 1)
      notes.say(["links", name], `it also called ${[...addresses.keys()].filter((a) => a !== address).join(", ")}`);
    notes.fillIn(["links", name], `timeoutMs: ${from}'s deadline on these calls, if it has one`);
  }
  return links;
}
