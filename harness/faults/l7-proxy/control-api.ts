import type http from "node:http";
import { ZodError } from "zod";
import { ConflictError, describeIssues } from "./api-schema";
import type { L7ProxyServer } from "./server";

const MAX_BODY_BYTES = 64 * 1024;
// /proxies, /proxies/:name, /proxies/:name/faults, /proxies/:name/faults/:id
const ROUTE = /^\/proxies(?:\/([^/]+)(?:\/(faults)(?:\/([^/]+))?)?)?$/;

class BadRequest extends Error {}

/**
 * Answers one control API request (routes in README.md). Bad bodies answer 400 naming each bad key, an unknown
 * proxy 404, a taken name or id 409; deletes answer 204 whether or not the thing existed.
 */
export async function handleControl(
  server: L7ProxyServer,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const method = req.method ?? "GET";
  const path = (req.url ?? "/").split("?")[0]!;
  try {
    const route = ROUTE.exec(path);
    if (!route) return send(res, 404, { error: `no route ${method} ${path}` });
    const [, name, faults, id] = route.map((part) => (part === undefined ? undefined : decodeURIComponent(part)));
    if (name === undefined) return await proxiesRoute(server, method, req, res);
    if (method === "DELETE" && faults === undefined) {
      await server.deleteProxy(name);
      return send(res, 204);
    }
    const proxy = server.proxy(name);
    if (!proxy) return send(res, 404, { error: `no proxy "${name}"` });
    if (faults === undefined && method === "GET") return send(res, 200, proxy.info());
    if (faults !== undefined && id === undefined && method === "GET") return send(res, 200, proxy.faults.list());
    if (faults !== undefined && id === undefined && method === "POST")
      return send(res, 201, proxy.faults.add(await readJson(req)));
    if (id !== undefined && method === "DELETE") {
      proxy.faults.remove(id);
      return send(res, 204);
    }
    return send(res, 404, { error: `no route ${method} ${path}` });
  } catch (error) {
    sendError(res, error);
  }
}

async function proxiesRoute(
  server: L7ProxyServer,
  method: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  if (method === "GET") return send(res, 200, server.list());
  if (method === "POST") return send(res, 201, await server.createProxy(await readJson(req)));
  send(res, 404, { error: `no route ${method} /proxies` });
}

function sendError(res: http.ServerResponse, error: unknown): void {
  if (error instanceof ZodError) return send(res, 400, { error: `invalid body: ${describeIssues(error)}` });
  if (error instanceof BadRequest) return send(res, 400, { error: error.message });
  if (error instanceof ConflictError) return send(res, 409, { error: error.message });
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE" || code === "EACCES") return send(res, 409, { error: `cannot listen: ${code}` });
  send(res, 500, { error: String(error) });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new BadRequest(`invalid JSON: ${(error as Error).message}`);
  }
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (body === undefined) return void res.writeHead(status).end();
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
