import http from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "../../harness/util/ports";

/** What the server saw of one request, on the wall clock at sub-ms resolution. */
export interface ServerSeen {
  requestId: string;
  method: string;
  path: string;
  traceparent?: string;
  /** The request's other headers, as received (lower-case names). */
  headers: http.IncomingHttpHeaders;
  body: string;
  /** When the request's headers had arrived (the 'request' event). */
  receivedMs: number;
  /** Just before the response was written (res.end()): no client can have it earlier. */
  respondedMs?: number;
  status?: number;
}

export interface TruthServer {
  baseUrl: string;
  seen: Map<string, ServerSeen>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that is the timing truth for a load driver: it records when each request (by X-Request-ID)
 * arrived and when it was answered, so a driver's record must hold startMs <= receivedMs and endMs >= respondedMs. Paths: /ok (5 ms), /slow (50 ms), /fail (503), /hang (never answers). Every
 * answer carries a W3C traceresponse echoing the request's trace id and flags with a span id of its own.
 */
export async function startTruthServer(): Promise<TruthServer> {
  const wallMs = wallClock();

  const seen = new Map<string, ServerSeen>();
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const receivedMs = wallMs();
    const requestId = String(req.headers["x-request-id"] ?? `anonymous-${seen.size}`);
    const traceparent = req.headers.traceparent as string | undefined;
    const path = (req.url ?? "/").split("?")[0]!;
    const record: ServerSeen = {
      requestId,
      method: req.method ?? "?",
      path,
      traceparent,
      headers: req.headers,
      body: "",
      receivedMs,
    };
    seen.set(requestId, record);
    req.on("data", (chunk: Buffer) => (record.body += chunk.toString()));
    req.on("end", () => {
      if (path === "/hang") {
        hanging.add(res);
        return;
      }
      setTimeout(
        () => {
          const status = path === "/fail" ? 503 : 200;
          const match = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(traceparent ?? "");
          if (match) res.setHeader("traceresponse", `00-${match[1]}-00f067aa0ba902b7-${match[2]}`);
          res.statusCode = status;
          record.respondedMs = wallMs();
          record.status = status;
          res.end("ok");
        },
        path === "/slow" ? 50 : 5,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return {
    baseUrl: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The wall clock (epoch ms, what k6's Go time.Now() and the inline driver's Date.now() read) at sub-ms resolution.
 * Date.now() truncates to the ms, so Date.now() - performance.now() never exceeds the true offset and reaches it just
 * after a tick: its maximum over 30 ms is the offset, stable to the µs on this machine.
 */
export function wallClock(): () => number {
  let offset = -Infinity;
  const t = performance.now();
  while (performance.now() - t < 30) offset = Math.max(offset, Date.now() - performance.now());
  return () => offset + performance.now();
}

/** Percentiles of a list, for printing measured figures. */
export function describeMs(values: readonly number[]): string {
  if (values.length === 0) return "n=0";
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
  return `n=${s.length} min ${s[0]!.toFixed(3)} p50 ${at(0.5)} p99 ${at(0.99)} max ${s.at(-1)!.toFixed(3)} ms`;
}
