import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { getRPCMetadata, RPCType, type RPCMetadata } from "@opentelemetry/core";
import axios, { type AxiosInstance } from "axios";
import express, { type NextFunction, type Request, type Response } from "express";
import { HttpError } from "./error-map";
import { closeHttpServer, type ServiceKit } from "./kit";
import { openMetricsToText, preinitHttpClient, preinitHttpServer, TEXT_CONTENT_TYPE } from "./metrics";
import { activeTraceIds, currentRequestId, outsideRequest, REQUEST_ID_HEADER, withRequestId } from "./request-context";

type Method = "get" | "post";
/** A route handler: returns nothing and writes `res`, or throws HttpError (mapped by the error middleware). */
export type RouteHandler = (req: Request, res: Response) => Promise<void>;

interface RequestState {
  startedMs: number;
  traceId?: string;
  spanId?: string;
  rpc?: RPCMetadata;
  route?: string;
  requestId?: string;
}

/** Unmatched paths are labelled with this route, so a scan of random URLs cannot explode label cardinality. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * An express app with the kit's middleware: RED metrics, request id, route template on the server span (through
 * the HTTP instrumentation's RPC metadata, so no express instrumentation and its per-middleware spans is needed),
 * faults, error mapping and an access log line. Probe and metrics routes are served first and are not measured.
 */
export class HttpApp {
  readonly app = express();
  /** exemplar-previous-request: the trace id of the request before (the defect's shared variable). */
  private previousTraceId: string | undefined;

  constructor(private readonly kit: ServiceKit) {
    this.app.disable("x-powered-by");
    this.app.set("etag", false);
    mountOps(this.app, kit);
    this.app.use((req, res, next) => this.measure(req, res, next));
    this.app.use(express.json({ limit: "64kb" }));
    // After the body parser: its stream callbacks would not carry the request-id store.
    this.app.use((req, res, next) => {
      const state = res.locals.meshproof as RequestState;
      withRequestId(req.get(REQUEST_ID_HEADER), () => {
        state.requestId = currentRequestId();
        res.setHeader(REQUEST_ID_HEADER, state.requestId!);
        next();
      });
    });
  }

  /** Declares a route; `statuses` are what the error table lets it answer (their series start at 0). */
  route(method: Method, path: string, statuses: readonly number[], handler: RouteHandler): this {
    const verb = method.toUpperCase();
    const name = `${verb} ${path}`;
    preinitHttpServer(this.kit.metrics, verb, path, statuses);
    this.app[method](
      path,
      (_req: Request, res: Response, next: NextFunction) => {
        const state = res.locals.meshproof as RequestState;
        state.route = path;
        if (state.rpc?.type === RPCType.HTTP) state.rpc.route = path;
        next();
      },
      (_req: Request, _res: Response, next: NextFunction) => {
        this.applyFaults(name).then(() => next(), next);
      },
      (req: Request, res: Response, next: NextFunction) => {
        handler(req, res).catch(next);
      },
    );
    return this;
  }

  /** Adds the 404 and error handlers; call after the last route. */
  finish(): express.Express {
    this.app.use((req, _res, next) => next(new HttpError(404, `no route ${req.method} ${req.path}`)));
    this.app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      const span = trace.getActiveSpan();
      if (span && status >= 500) {
        span.recordException(error instanceof Error ? error : new Error(message));
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      if (res.headersSent) return;
      res.status(status).json({ error: message, requestId: currentRequestId() });
    });
    return this.app;
  }

  private async applyFaults(name: string): Promise<void> {
    const decision = this.kit.faults.decide([name]);
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) {
      throw new HttpError(decision.error.status ?? 500, `injected fault ${decision.error.faultId}`);
    }
  }

  private measure(req: Request, res: Response, next: NextFunction): void {
    const ids = activeTraceIds();
    const state: RequestState = {
      startedMs: performance.now(),
      traceId: ids?.traceId,
      spanId: ids?.spanId,
      rpc: getRPCMetadata(context.active()),
    };
    res.locals.meshproof = state;
    // W3C Trace Context Level 2: the trace this request was recorded under and whether it was sampled, so a client
    // that sent no traceparent (or an unsampled one) can find it.
    const span = trace.getSpanContext(context.active());
    if (span) res.setHeader("traceresponse", `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
    // "close", not "finish": a request whose client went away is counted too, with the status the server had set when
    // the connection closed — what the HTTP instrumentation's span records for it (it ends the span on "close").
    res.once("close", () => {
      const kit = this.kit;
      const seconds = (performance.now() - state.startedMs) / 1000;
      const status = res.statusCode;
      // status-label-200: the label is decided as if every answer were a success.
      const statusLabel = kit.has("status-label-200") && status >= 400 ? "200" : String(status);
      const route = kit.has("raw-path-route") && state.route ? req.path : (state.route ?? UNMATCHED_ROUTE);
      const labels = { method: req.method, route, status_code: statusLabel };
      kit.metrics.httpServerRequests.inc(labels);
      const exemplar = kit.has("exemplar-previous-request") ? this.previousTraceId : state.traceId;
      this.previousTraceId = state.traceId;
      kit.metrics.httpServerDuration.observe(labels, kit.has("histogram-ms") ? seconds * 1000 : seconds, exemplar);
      const line = {
        method: req.method,
        route: labels.route,
        url: req.originalUrl,
        status,
        durationMs: Math.round(seconds * 100_000) / 100,
        ...(res.writableFinished ? {} : { clientGone: true }),
      };
      const write = () => {
        if (status >= 500) kit.logger.error(line, "request failed");
        else kit.logger.info(line, "request completed");
      };
      if (kit.has("log-outside-context")) outsideRequest(write);
      else {
        Object.assign(line, { trace_id: state.traceId, span_id: state.spanId, request_id: state.requestId });
        write();
      }
    });
    next();
  }
}

/** /metrics, /healthz, /readyz on an express app (not traced: see isUntracedRequest). */
function mountOps(app: express.Express, kit: ServiceKit): void {
  app.get("/metrics", (req, res, next) => {
    // Content negotiation as Prometheus does it: OpenMetrics (with exemplars) when asked for, else the text format.
    const openMetrics = /application\/openmetrics-text/.test(req.get("accept") ?? "");
    // One timers phase first: a scrape that waited out an event-loop block would otherwise collect (and reset) the
    // lag histograms before their timer has recorded that block, which then never shows (see probes.ts).
    new Promise<void>((resolve) => setTimeout(resolve, 0))
      .then(() => kit.metrics.registry.metrics())
      .then((text) => {
        res.setHeader("content-type", openMetrics ? kit.metrics.registry.contentType : TEXT_CONTENT_TYPE);
        res.end(openMetrics ? text : openMetricsToText(text));
      }, next);
  });
  app.get("/healthz", (_req, res, next) => {
    kit.healthz().then((r) => void res.status(r.httpStatus).json(r.body), next);
  });
  app.get("/readyz", (_req, res, next) => {
    kit.readyz().then((r) => void res.status(r.httpStatus).json(r.body), next);
  });
}

/** An ops-only HTTP app (gRPC services): /metrics, /healthz, /readyz. */
export function opsApp(kit: ServiceKit): express.Express {
  const app = express();
  app.disable("x-powered-by");
  mountOps(app, kit);
  return app;
}

/** Listens on 127.0.0.1:port, and drains the server on the kit's shutdown. */
export async function listenHttp(kit: ServiceKit, app: express.Express, port: number): Promise<http.Server> {
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  kit.onShutdown(() => closeHttpServer(server));
  kit.logger.info({ port: (server.address() as AddressInfo).port }, "http listening");
  return server;
}

/** Label value for an outbound call that got no response (refused, reset, timeout), as the driver records it. */
export const NO_RESPONSE_STATUS = "0";

/**
 * An agent that times each call over the same stretch as its client span: from http.request (which hands the request
 * to its agent at once) to the response's end, or to the request's close with no response (status "0"). Timed in
 * axios's interceptors instead, the histogram also held axios's own turns before and after the wire: 2 to 7 ms a call
 * more than the span in containers.
 */
class TimedAgent extends http.Agent {
  constructor(
    private readonly record: (method: string, status: string, startedMs: number, traceId?: string) => void,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  /** Node's hook through which http.request hands every request to its agent (internal, kept since Node 0.x). */
  addRequest(request: http.ClientRequest, options: http.ClientRequestArgs): void {
    const startedMs = performance.now();
    const traceId = activeTraceIds()?.traceId;
    let status: string | undefined;
    const done = () => {
      if (status) this.record(request.method, status, startedMs, traceId);
      status = "";
    };
    request.once("response", (response) => {
      status = String(response.statusCode);
      response.once("end", done).once("close", done);
    });
    request.once("close", () => {
      if (status === undefined) {
        status = NO_RESPONSE_STATUS;
        done();
      }
    });
    (http.Agent.prototype as unknown as { addRequest: TimedAgent["addRequest"] }).addRequest.call(
      this,
      request,
      options,
    );
  }
}

/**
 * An axios client to a peer service: request id header, RED client metrics per (method, peer, status),
 * keep-alive. Never throws for an HTTP status; throws for no response (status label "0").
 */
export function httpClient(
  kit: ServiceKit,
  options: {
    peer: string;
    baseURL: string;
    timeoutMs: number;
    preinit?: { method: string; statuses: readonly number[] }[];
  },
): AxiosInstance {
  for (const p of options.preinit ?? []) {
    preinitHttpClient(kit.metrics, p.method, options.peer, [...p.statuses, 0]);
  }
  const record = (method: string, status: string, startedMs: number, traceId: string | undefined) => {
    const labels = { method, peer_service: options.peer, status_code: status };
    kit.metrics.httpClientRequests.inc(labels);
    kit.metrics.httpClientDuration.observe(labels, (performance.now() - startedMs) / 1000, traceId);
  };
  const instance = axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    validateStatus: () => true,
    // A timeout makes Node's agent honour the server's `Keep-Alive: timeout=N` hint and drop an idle socket 1 s
    // before the server would; with none (the default) it keeps idle sockets forever and a request sent as the
    // server closes one fails with "socket hang up" (found under load, when a GC pause delays the server's timers).
    httpAgent: new TimedAgent(record, { keepAlive: true, maxSockets: 256, timeout: 60_000 }),
    proxy: false,
  });
  instance.interceptors.request.use(
    (config) => {
      const requestId = currentRequestId();
      if (requestId) config.headers.set(REQUEST_ID_HEADER, requestId);
      return config;
    },
    undefined,
    { synchronous: true },
  );
  return instance;
}
