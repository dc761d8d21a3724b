import type { Protocol } from "./api-schema";

/** What a fault's match is tested against: the HTTP method and path (no query); for gRPC "POST" and the :path. */
export interface CallKey {
  method: string;
  path: string;
}

/** A compiled match: the test, or the reason the text is not a valid match for the protocol. */
export interface CompiledMatch {
  matches: (call: CallKey) => boolean;
  problem?: string;
}

const EVERY_CALL: CompiledMatch = { matches: () => true };
const NOTHING = (problem: string): CompiledMatch => ({ matches: () => false, problem });

/**
 * Compiles a fault's match. gRPC: "Method" (any service) or "pkg.Service/Method" (a leading "/" is allowed).
 * HTTP: "METHOD /path" (METHOD may be "*"), where a segment ":name" matches any one segment and a trailing "*"
 * makes the path a prefix. Undefined matches every call.
 */
export function compileMatch(protocol: Protocol, match: string | undefined): CompiledMatch {
  if (match === undefined) return EVERY_CALL;
  return protocol === "grpc" ? compileGrpc(match) : compileHttp(match);
}

function compileGrpc(match: string): CompiledMatch {
  const parts = /^\/?(?:([\w.]+)\/)?(\w+)$/.exec(match);
  if (!parts) return NOTHING(`"${match}" is not "Method" or "pkg.Service/Method"`);
  const [, service, method] = parts;
  if (service !== undefined) {
    const path = `/${service}/${method}`;
    return { matches: (call) => call.path === path };
  }
  return { matches: (call) => call.path.endsWith(`/${method}`) && call.path.lastIndexOf("/") > 0 };
}

function compileHttp(match: string): CompiledMatch {
  const parts = /^([A-Z]+|\*) (\/\S*)$/.exec(match);
  if (!parts) return NOTHING(`"${match}" is not "METHOD /path" (e.g. "GET /customer/:id" or "* /api/*")`);
  const [, method, template] = parts as unknown as [string, string, string];
  const prefix = template.endsWith("*");
  const body = prefix ? template.slice(0, -1) : template;
  if (body.includes("*")) return NOTHING(`"${match}": "*" is allowed only at the end of the path`);
  const pattern = body
    .split("/")
    .map((segment) => (/^:\w+$/.test(segment) ? "[^/]+" : segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  const regex = new RegExp(`^${pattern}${prefix ? "" : "$"}`);
  return { matches: (call) => (method === "*" || call.method === method) && regex.test(call.path) };
}
