import type { ErrorLayer, ErrorSurface, Hop, ReadinessFlip } from "../../assertions/expectations";
import { faultEffect, type FaultSpec } from "../../assertions/faults";
import { NO_RESPONSE } from "../../assertions/trace-index";
import { edgeOf, toDatastore, type MeshTopology } from "./topology";

/** What fails at a hop: the codes the caller sees (gRPC code names, HTTP statuses, or a datastore failure). */
export interface HopFailure {
  route: string;
  /** Index of the failing hop in the route. */
  hop: number;
  codes: string | readonly string[];
  /** Whether the callee answered the failure itself (its server counters see it). */
  answered: boolean;
}

/**
 * The counters a failure crosses on its way to the edge, each with the code it carries there: the callee's server
 * counter (when it answered), the caller's client counter, then each service back to the edge answers by its error
 * table. Undefined when a service on the way has no error table: the mesh does not promise how it maps errors.
 */
export function errorLayers(mesh: MeshTopology, failure: HopFailure): ErrorLayer[] | undefined {
  const hops = mesh.routes[failure.route]!.hops;
  const edge = edgeOf(mesh);
  const layers: ErrorLayer[] = [];
  let at: Hop = hops[failure.hop]!;
  let codes = [...(typeof failure.codes === "string" ? [failure.codes] : failure.codes)];
  const shape = (list: string[]) => (list.length === 1 && typeof failure.codes === "string" ? list[0]! : list);
  const datastore = toDatastore(mesh, at);
  if (failure.answered && !datastore) layers.push(serverLayer(at, codes, shape));
  for (;;) {
    if (!datastore || at !== hops[failure.hop]) layers.push(...clientLayer(at, codes, shape));
    const table = mesh.services[at.from]?.errors;
    const answers = codes.map((c) => answerOf(table, at, c, mesh));
    if (answers.some((a) => a === undefined)) return undefined;
    codes = [...new Set(answers as string[])];
    const caller = [...hops.slice(0, hops.indexOf(at))].reverse().find((h) => h.to === at.from);
    const grpc = mesh.services[at.from]?.protocol === "grpc";
    layers.push({
      service: at.from,
      metric: grpc ? "grpcServer" : "httpServer",
      code: shape(codes),
      ...(at.from === edge ? { route: failure.route } : {}),
    });
    if (!caller) return layers;
    at = caller;
  }
}

function serverLayer(hop: Hop, codes: string[], shape: (l: string[]) => string | string[]): ErrorLayer {
  return hop.protocol === "grpc"
    ? { service: hop.to, metric: "grpcServer", code: shape(codes), ...(hop.method ? { method: hop.method } : {}) }
    : { service: hop.to, metric: "httpServer", code: shape(codes), ...(hop.method ? { route: hop.method } : {}) };
}

function clientLayer(hop: Hop, codes: string[], shape: (l: string[]) => string | string[]): ErrorLayer[] {
  if (hop.protocol === "grpc")
    return [
      { service: hop.from, metric: "grpcClient", code: shape(codes), ...(hop.method ? { method: hop.method } : {}) },
    ];
  if (hop.protocol === "http") return [{ service: hop.from, metric: "httpClient", code: shape(codes), peer: hop.to }];
  return [];
}

/** The status a service answers when its call over `hop` failed with `code`; undefined when its table does not say. */
function answerOf(
  table: MeshTopology["services"][string]["errors"],
  hop: Hop,
  code: string,
  mesh: MeshTopology,
): string | undefined {
  if (!table) return undefined;
  if (toDatastore(mesh, hop)) return table.datastore?.toString();
  if (hop.protocol === "grpc") return (table.grpc?.[code] ?? table.grpc?.default)?.toString();
  const status = Number(code);
  if (status === 0) return table.noAnswer?.toString();
  return status >= 500 ? table.http5xx?.toString() : code;
}

/**
 * Where a fault's failures surface: per route it fails, the layers of errorLayers. Undefined when the fault fails
 * nothing, when the codes it leaves are unknown, or when the mesh does not promise its error mapping.
 */
export function errorSurfacesFor(
  mesh: MeshTopology,
  fault: FaultSpec,
  failing: { service: string; method?: string } | { link: string },
  options: { answered?: boolean; codes?: string | readonly string[] } = {},
): ErrorSurface[] | undefined {
  const effect = faultEffect(fault);
  if (!effect?.fails || !(options.codes ?? effect.grpcCodes)) return undefined;
  // A fault from outside leaves an HTTP caller no answer at all; a gRPC caller the codes its kind declares.
  const codesAt = (hop: Hop) => options.codes ?? (hop.protocol === "http" ? NO_RESPONSE : effect.grpcCodes!);
  const routes = Object.entries(mesh.routes).flatMap(([route, r]) => {
    const hop = r.hops.findIndex((h) =>
      "link" in failing
        ? mesh.links[failing.link]?.from === h.from && mesh.links[failing.link]?.to === h.to
        : h.to === failing.service && (failing.method === undefined || h.method === failing.method),
    );
    return hop < 0 ? [] : [{ route, hop, codes: codesAt(r.hops[hop]!) }];
  });
  const answered = options.answered ?? effect.serverSpan === "present";
  const surfaces = routes.map(({ route, hop, codes }) => ({
    route,
    layers: errorLayers(mesh, { route, hop, codes, answered }),
  }));
  if (!surfaces.length || surfaces.some((s) => !s.layers)) return undefined;
  return surfaces.map((s) => ({
    fault: fault.target,
    ...(surfaces.length > 1 ? { route: s.route } : {}),
    layers: s.layers!,
  }));
}

/**
 * The probe flips a fault causes, from the mesh's probe model: the target's own probes (refused when killed, timing
 * out when frozen, draining when restarted, liveness checks past their bound), and every readiness check that depends
 * on it. Undefined when a service involved has no probe model: the mesh does not promise how its probes behave.
 */
export function readinessFlipsFor(mesh: MeshTopology, fault: FaultSpec): ReadinessFlip[] | undefined {
  const effect = faultEffect(fault);
  const site = fault.target;
  const flips: ReadinessFlip[] = [];
  const dependents = (on: string, livenessOnly: boolean) =>
    Object.entries(mesh.services).flatMap(([service, s]) =>
      (s.probes?.readiness ?? [])
        .filter((c) => c.on === on && (!livenessOnly || c.liveness))
        .map((c) => ({ fault: site, service, check: c.check })),
    );
  const own = mesh.services[site]?.probes;
  switch (fault.kind) {
    case "kill":
    case "freeze": {
      if (!own) return undefined;
      const answer = fault.kind === "kill" ? "refused" : "timeout";
      flips.push(...dependents(site, false), { fault: site, service: site, answer });
      flips.push({ fault: site, service: site, probe: "healthz", answer });
      return flips;
    }
    case "restart":
      if (!own?.drain) return undefined;
      flips.push({ fault: site, service: site, check: own.drain.check });
      flips.push({ fault: site, service: site, probe: "healthz", answer: "refused" }, ...dependents(site, false));
      return flips;
    case "memory": {
      const heap = own?.liveness?.heap;
      if (!heap) return undefined;
      if (fault.params.mb * 2 ** 20 <= heap.limitBytes) return [];
      return [{ fault: site, service: site, probe: "healthz", check: heap.check }, ...dependents(site, true)];
    }
    case "stall": {
      const loop = own?.liveness?.eventLoop;
      if (!loop) return undefined;
      if (fault.params.blockMs <= loop.maxLagMs) return [];
      const atLeast = Math.floor(fault.durationMs / fault.params.everyMs) - 1;
      return [{ fault: site, service: site, probe: "healthz", check: loop.check, intermittent: { atLeast } }];
    }
    default: {
      const link = mesh.links[site];
      if (!link || effect?.fails !== true) return [];
      const caller = mesh.services[link.from]?.probes;
      if (!caller) return undefined;
      return (caller.readiness ?? [])
        .filter((c) => c.on === site || c.on === link.to)
        .map((c) => ({ fault: site, service: link.from, check: c.check }));
    }
  }
}

/**
 * The codes an overload may leave at each counter (an inexact surface): calls time out anywhere, so every gRPC server
 * may count DEADLINE_EXCEEDED, UNAVAILABLE or CANCELLED, every gRPC client the first two, every HTTP client its
 * callee's answers or none at all, and every service answers what its error table gives for them. Undefined when a
 * calling service has no error table.
 */
export function overloadSurface(mesh: MeshTopology, fault: string): ErrorSurface | undefined {
  const hops = Object.values(mesh.routes).flatMap((r) => r.hops);
  const grpc = ["DEADLINE_EXCEEDED", "UNAVAILABLE"];
  const layers: ErrorLayer[] = [];
  for (const service of unique(hops.filter((h) => h.protocol === "grpc").map((h) => h.to)))
    layers.push({ service, metric: "grpcServer", code: [...grpc, "CANCELLED"] });
  const answers = new Map<string, string[]>();
  for (const caller of unique(hops.map((h) => h.from)).reverse()) {
    // Calls to a datastore reached in-process (no service of the mesh) are not what an overload of the mesh times out.
    const calls = hops.filter((h) => h.from === caller && mesh.services[h.to] !== undefined);
    if (!calls.length) continue;
    const table = mesh.services[caller]?.errors;
    if (!table) return undefined;
    const grpcCalls = calls.filter((h) => h.protocol === "grpc");
    const methods = unique(grpcCalls.map((h) => h.method));
    if (grpcCalls.length)
      layers.push({
        service: caller,
        metric: "grpcClient",
        code: grpc,
        ...(methods.length === 1 && methods[0] ? { method: methods[0] } : {}),
      });
    const mine = new Set<string>();
    for (const h of calls) {
      const seen = h.protocol === "grpc" ? grpc : h.protocol === "http" ? [...(answers.get(h.to) ?? []), "0"] : [];
      if (h.protocol === "http") layers.push({ service: caller, metric: "httpClient", code: seen, peer: h.to });
      for (const code of seen) {
        const answer = answerOf(table, h, code, mesh);
        if (answer !== undefined) mine.add(answer);
      }
    }
    answers.set(caller, [...mine]);
    if (mine.size)
      layers.push({ service: caller, metric: "httpServer", code: mine.size === 1 ? [...mine][0]! : [...mine] });
  }
  return { fault, exact: false, layers };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
