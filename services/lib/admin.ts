import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ZodError } from "zod";
import type { FaultRegistry, AdminFault } from "./faults";
import { ResourceFaultError } from "./resource-faults";

/** The only address an admin listener binds: no fault endpoint on a public port, ever. */
export const ADMIN_HOST = "127.0.0.1";

export interface AdminServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  token: string;
  faults: FaultRegistry;
  /** Force-exports finished spans. */
  flush: () => Promise<void>;
  /** The tracing configuration and span pipeline counts (GET /admin/telemetry). */
  telemetry: () => unknown;
  /**
   * The metrics page (text format) once the service's listeners have drained on SIGTERM (GET /admin/metrics/final,
   * asked right after the signal): its counters' last values, which no scrape sees after the listeners close.
   */
  finalMetrics: () => Promise<string>;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The admin API: GET/POST /admin/faults, DELETE /admin/faults/:id, DELETE /admin/faults, POST /admin/flush,
 * GET /admin/telemetry, GET /admin/metrics/final.
 * Every request, including one to an unknown path, needs `Authorization: Bearer <token>`; else 401.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.setHeader("www-authenticate", 'Bearer realm="meshproof-admin"');
      return send(res, 401, { error: "missing or wrong bearer token" });
    }
    const path = (req.url ?? "/").split("?")[0]!;
    const method = req.method ?? "GET";
    if (path === "/admin/faults" && method === "GET") return send(res, 200, { faults: options.faults.list() });
    if (path === "/admin/faults" && method === "POST") {
      let spec: unknown;
      try {
        spec = JSON.parse(await readBody(req));
      } catch (error) {
        return send(res, 400, { error: `invalid fault: ${String(error)}` });
      }
      try {
        // Answers once a resource fault's effect is in place (all its memory held, its burning thread running).
        return send(res, 201, await options.faults.apply(spec as AdminFault));
      } catch (error) {
        if (error instanceof ZodError) {
          const message = error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
          return send(res, 400, { error: `invalid fault: ${message}` });
        }
        if (error instanceof ResourceFaultError) return send(res, 400, { error: `invalid fault: ${error.message}` });
        return send(res, 500, { error: `the fault could not be applied: ${String(error)}` });
      }
    }
    if (path === "/admin/faults" && method === "DELETE") return send(res, 200, { removed: options.faults.clear() });
    const match = /^\/admin\/faults\/([\w-]+)$/.exec(path);
    if (match && method === "DELETE") {
      return options.faults.remove(match[1]!)
        ? send(res, 200, { removed: 1 })
        : send(res, 404, { error: `no fault ${match[1]}` });
    }
    if (path === "/admin/telemetry" && method === "GET") return send(res, 200, options.telemetry());
    if (path === "/admin/metrics/final" && method === "GET") {
      const text = await options.finalMetrics();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      return void res.end(text);
    }
    if (path === "/admin/flush" && method === "POST") {
      await options.flush();
      return send(res, 200, { flushed: true });
    }
    return send(res, 404, { error: `no admin route ${method} ${path}` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, ADMIN_HOST, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    // Answers in flight (the final metrics) finish; a client that holds a connection longer is cut after 1 s.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
