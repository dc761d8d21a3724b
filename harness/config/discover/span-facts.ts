import type { HopProtocol } from "../../../assertions/expectations";
import type { AttributeValue, Span } from "../../../assertions/trace-model";
import type { JaegerSpan } from "../../backends/trace-store";

/** The first of these attributes a span carries, as text. */
export function attr(span: Span, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = span.attributes[key];
    if (value !== undefined && value !== "") return String(value);
  }
  return undefined;
}

const SQL_SYSTEMS = /^(mysql|mariadb|postgres(ql)?|mssql|oracle|sqlite|db2|cockroachdb|tidb|other_sql|h2|derby)$/;

/**
 * What a span speaks, as a hop's protocol: its rpc, db or http attributes (either semantic-convention generation),
 * else its name or service ("SQL SELECT", "redis-manual"); undefined when nothing tells.
 */
export function spanProtocol(span: Span): HopProtocol | undefined {
  if (attr(span, "rpc.system.name", "rpc.system") !== undefined) return "grpc";
  const db = attr(span, "db.system.name", "db.system");
  if (db !== undefined) return db === "redis" ? "redis" : SQL_SYSTEMS.test(db) ? "sql" : "db";
  if (attr(span, "http.request.method", "http.method") !== undefined) return "http";
  if (attr(span, "db.statement", "db.query.text", "sql.query") !== undefined) return "sql";
  const words = `${span.name} ${span.service}`;
  if (/redis/i.test(words)) return "redis";
  if (/\b(sql|select|insert|update|delete)\b|mysql|postgres/i.test(words)) return "sql";
  return undefined;
}

/** The name a datastore hop's callee gets: its db system, its peer.service, else what its protocol is. */
export function datastoreName(span: Span, protocol: HopProtocol): string {
  const named = attr(span, "db.system.name", "db.system", "peer.service");
  if (named !== undefined) return serviceName(named);
  if (protocol === "sql") return /postgres/i.test(`${span.name} ${span.service}`) ? "postgresql" : "mysql";
  return protocol;
}

/** A name as a config service name (lower-case, dashes). */
export function serviceName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+|-+$/g, "");
  return cleaned || "service";
}

/** host:port a client span called (either generation's peer attributes, else its URL). */
export function calledAddress(span: Span): string | undefined {
  const host = attr(span, "server.address", "net.peer.name");
  const port = attr(span, "server.port", "net.peer.port");
  if (host !== undefined && port !== undefined) return `${host}:${port}`;
  const url = attr(span, "url.full", "http.url");
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : undefined;
  } catch {
    return undefined;
  }
}

/** host:port a server span says it was reached at (its server.address/port, or the Host header). */
export function servedAddress(span: Span): string | undefined {
  const host = attr(span, "server.address", "net.host.name");
  const port = attr(span, "server.port", "net.host.port");
  if (host !== undefined && port !== undefined) return `${host}:${port}`;
  return attr(span, "http.host");
}

/** The port of a host:port or URL, or undefined. */
export function portOf(address: string): string | undefined {
  return /:(\d+)(\/.*)?$/.exec(address)?.[1];
}

/** Whether a host:port is on this machine, in the form the config's schema accepts (127.0.0.1 or localhost). */
export function isLoopback(address: string): boolean {
  return /^(127\.0\.0\.1|localhost):\d+$/.test(address);
}

/** HTTP "METHOD /route" of a server span, or the bare gRPC method ("FindNearest"); undefined when it names none. */
export function operationOf(span: Span, protocol: HopProtocol): string | undefined {
  if (protocol === "grpc") {
    const method = attr(span, "rpc.method") ?? (span.name.includes("/") ? span.name : undefined);
    return method?.split("/").pop();
  }
  if (protocol !== "http") return undefined;
  const method = attr(span, "http.request.method", "http.method");
  const route = routeOf(span);
  return method === undefined || route === undefined ? undefined : `${method} ${route}`;
}

/** The route template of an HTTP server span: http.route, else its path, else its name when that is a path. */
export function routeOf(span: Span): string | undefined {
  const route = attr(span, "http.route", "url.path") ?? attr(span, "http.target")?.split("?")[0];
  if (route !== undefined) return route;
  const path = span.name.split(" ").pop()!;
  return path.startsWith("/") ? path : undefined;
}

/**
 * The path and query an HTTP server span was asked for: url.path with url.query, http.target, or the `url` of one
 * of its events (HotROD logs it) when that is the same path with a query. Says where it came from ("its ...").
 */
export function requestTarget(span: Span, raw: JaegerSpan | undefined): { target: string; from: string } | undefined {
  const path = attr(span, "url.path");
  const query = attr(span, "url.query");
  if (path !== undefined && query !== undefined)
    return { target: `${path}?${query}`, from: "its url.path and url.query" };
  const target = attr(span, "http.target");
  if (target !== undefined) return { target, from: "its http.target" };
  for (const log of raw?.logs ?? [])
    for (const field of log.fields) {
      const value = urlPathOf(field.value);
      if (["url", "http.target", "url.full", "http.url"].includes(field.key) && value && samePath(value, path))
        return { target: value, from: `the ${field.key} field of its "${eventName(log.fields)}" event` };
    }
  const full = urlPathOf(attr(span, "url.full", "http.url"));
  if (full !== undefined) return { target: full, from: "its url.full" };
  return path === undefined ? undefined : { target: path, from: "its url.path (no query string recorded)" };
}

function urlPathOf(value: AttributeValue | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  if (value.startsWith("/")) return value;
  try {
    const url = new URL(value);
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}

function samePath(target: string, path: string | undefined): boolean {
  return path === undefined || target.split("?")[0] === path;
}

function eventName(fields: { key: string; value: AttributeValue }[]): string {
  return String(fields.find((f) => f.key === "event" || f.key === "message")?.value ?? "");
}

/** Whether a server span answered with success: no error status, and an HTTP status below 400. */
export function succeeded(span: Span): boolean {
  const status = Number(attr(span, "http.response.status_code", "http.status_code") ?? 200);
  return span.status !== "error" && status < 400;
}
