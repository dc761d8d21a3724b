import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { grpcCodeName, METHOD_CODES } from "./error-map";
import type { ServiceKit } from "./kit";
import { grpcPathLabels, preinitGrpc } from "./metrics";
import type { Check } from "./probes";
import { activeTraceIds, currentRequestId, REQUEST_ID_HEADER, withRequestId } from "./request-context";

/** The fully-qualified names of the mesh's gRPC services. */
export const GRPC_SERVICES = {
  inventory: "meshproof.inventory.v1.Inventory",
  payments: "meshproof.payments.v1.Payments",
  health: "grpc.health.v1.Health",
} as const;

// Health checks are probe traffic: counting them would make a peer's server and client counters disagree
// whenever the peer is down (the client sees UNAVAILABLE checks the server never received).
const UNMEASURED_SERVICES = new Set<string>([GRPC_SERVICES.health]);

// gRPC spans are made here, in the kit's interceptor and handler wrapper, not by @opentelemetry/instrumentation-grpc:
// measured on the checkout path, that instrumentation cost 1.5 ms of CPU per checkout (4 gRPC spans) against
// 0.1 ms for the same spans made here, and it was the bulk of the tracing overhead.
const tracer = trace.getTracer("meshproof-grpc-kit");

const metadataSetter: TextMapSetter<grpc.Metadata> = { set: (metadata, key, value) => metadata.set(key, value) };
const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

/** Span name and stable rpc.* attributes of one method ("/pkg.Service/Method"). */
function rpcSpan(path: string): { name: string; attributes: Record<string, string> } {
  const [service = "", method = ""] = path.replace(/^\//, "").split("/");
  return {
    name: `grpc.${service}/${method}`,
    attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method },
  };
}

/**
 * Ends an RPC span with its gRPC status code; any non-OK code is an error on the span. `recorded` is the code the
 * attribute says (the same, unless the grpc-span-code-ok defect is on).
 */
function endRpcSpan(span: Span, code: grpc.status, message?: string, recorded: grpc.status = code): void {
  span.setAttribute("rpc.grpc.status_code", recorded);
  if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message });
  // On the performance clock, like its start (see wrapService), so the duration is exact.
  span.end(performance.now());
}

/** services/proto, found from both the compiled (dist/services/lib) and the source location. */
export function protoDir(): string {
  const candidates = [path.resolve(__dirname, "../proto"), path.resolve(__dirname, "../../../services/proto")];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, "payments.proto")));
  if (!found) throw new Error(`services/proto not found (looked in ${candidates.join(", ")})`);
  return found;
}

const loaded = new Map<string, grpc.GrpcObject>();

/** Loads one .proto of services/proto (cached). */
export function loadProto(file: string): grpc.GrpcObject {
  let pkg = loaded.get(file);
  if (!pkg) {
    const definition = protoLoader.loadSync(path.join(protoDir(), file), {
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    pkg = grpc.loadPackageDefinition(definition);
    loaded.set(file, pkg);
  }
  return pkg;
}

/** The service constructor (client class with .service definition) at a dotted name in a loaded proto. */
export function serviceConstructor(file: string, fullName: string): grpc.ServiceClientConstructor {
  let node: unknown = loadProto(file);
  for (const part of fullName.split(".")) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`${fullName} not found in ${file}`);
  return node as grpc.ServiceClientConstructor;
}

/** A gRPC error with a code; what a handler throws for a business or infrastructure outcome. */
export class GrpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "GrpcError";
  }
}

/** A unary method implementation: request in, response out, GrpcError (or any error = INTERNAL) for failures. */
export type UnaryImpl = (request: never, metadata: grpc.Metadata) => Promise<unknown>;

/**
 * One interval, two signals: the interceptor notes when a call arrived and the handler wrapper starts the SERVER
 * span there; the wrapper leaves the span to the interceptor, which ends it where it observes the duration histogram
 * (sendStatus, once the response is written). Both keyed by the call's metadata object, which the interceptor and
 * the handler share.
 */
const CALL_STARTS = new WeakMap<grpc.Metadata, number>();
const CALL_SPANS = new WeakMap<
  grpc.Metadata,
  { span: Span; code: grpc.status; recorded: grpc.status; message?: string }
>();

/** Server interceptor recording RED metrics in sendStatus, where the SERVER span is active (exemplar trace id). */
export function serverMetricsInterceptor(kit: ServiceKit): grpc.ServerInterceptor {
  return (methodDescriptor, call) => {
    const labels = grpcPathLabels(methodDescriptor.path);
    if (UNMEASURED_SERVICES.has(labels.grpc_service)) return new grpc.ServerInterceptingCall(call);
    const startedMs = performance.now();
    let requestMetadata: grpc.Metadata | undefined;
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withStart((next) =>
          next(
            new grpc.ServerListenerBuilder()
              .withOnReceiveMetadata((metadata, nextMetadata) => {
                requestMetadata = metadata;
                CALL_STARTS.set(metadata, startedMs);
                nextMetadata(metadata);
              })
              .build(),
          ),
        )
        .withSendStatus((status, next) => {
          const ending = requestMetadata && CALL_SPANS.get(requestMetadata);
          if (ending) endRpcSpan(ending.span, ending.code, ending.message, ending.recorded);
          const failed = status.code !== grpc.status.OK;
          const code = kit.has("status-label-200") && failed ? "OK" : grpcCodeName(status.code ?? grpc.status.UNKNOWN);
          const full = { ...labels, grpc_code: code };
          kit.metrics.grpcServerHandled.inc(full);
          kit.metrics.grpcServerHandling.observe(
            full,
            (performance.now() - startedMs) / 1000,
            activeTraceIds()?.traceId,
          );
          next(status);
        })
        .build(),
    );
  };
}

/**
 * Wraps every method of impl: request id from metadata, faults of the method, exception and status on the SERVER
 * span, one log line. Faults run here (inside the traced handler), not in the interceptor before it, so a call
 * failed by a fault still has its server span.
 */
export function wrapService(
  kit: ServiceKit,
  fullName: string,
  impl: Record<string, UnaryImpl>,
): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, fn] of Object.entries(impl)) {
    const names = [method, `${fullName}/${method}`];
    const { name, attributes } = rpcSpan(`/${fullName}/${method}`);
    wrapped[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const incoming = call.metadata.get(REQUEST_ID_HEADER)[0];
      const parent = propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
      // A performance.now() value: the SDK places it on its own clock (an epoch time would be ended on Date.now()'s).
      const arrived = CALL_STARTS.get(call.metadata);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: arrived }, parent);
      // The SERVER span is active for the handler and for sendStatus (where the metrics interceptor reads it).
      context.with(trace.setSpan(parent, span), () =>
        withRequestId(typeof incoming === "string" && !kit.has("request-id-regenerated") ? incoming : undefined, () => {
          const startedMs = performance.now();
          const finish = (error: GrpcError | undefined, value?: unknown) => {
            const code = error ? error.code : grpc.status.OK;
            const line = {
              grpc_method: method,
              grpc_code: grpcCodeName(code),
              durationMs: Math.round((performance.now() - startedMs) * 100) / 100,
            };
            const recorded = kit.has("grpc-span-code-ok") ? grpc.status.OK : code;
            // With the metrics interceptor in place the span ends in its sendStatus, with the histogram's duration
            // (set before the callback, which may send the status at once).
            if (arrived !== undefined) CALL_SPANS.set(call.metadata, { span, code, recorded, message: error?.message });
            if (error) {
              span.recordException(error);
              kit.logger.warn({ ...line, err: error.message }, "call failed");
              callback({ code, details: error.message });
            } else {
              kit.logger.info(line, "call completed");
              callback(null, value);
            }
            if (arrived === undefined) endRpcSpan(span, code, error?.message, recorded);
          };
          const decision = kit.faults.decide(names);
          const run = async () => {
            if (decision.delayMs > 0) await sleep(decision.delayMs);
            if (decision.error) {
              const code = grpc.status[(decision.error.code ?? "UNAVAILABLE") as keyof typeof grpc.status];
              throw new GrpcError(code, `injected fault ${decision.error.faultId}`);
            }
            return fn(call.request as never, call.metadata);
          };
          run().then(
            (value) => finish(undefined, value),
            (error: unknown) =>
              finish(
                error instanceof GrpcError
                  ? error
                  : new GrpcError(grpc.status.INTERNAL, error instanceof Error ? error.message : String(error)),
              ),
          );
        }),
      );
    }) as grpc.handleUnaryCall<unknown, unknown>;
  }
  return wrapped;
}

export interface GrpcServiceRegistration {
  proto: string;
  fullName: string;
  impl: Record<string, UnaryImpl>;
}

/** Starts a gRPC server on 127.0.0.1:port with the metrics interceptor, the services, and grpc.health.v1. */
export async function startGrpcServer(
  kit: ServiceKit,
  port: number,
  services: readonly GrpcServiceRegistration[],
): Promise<grpc.Server> {
  const server = new grpc.Server({ interceptors: [serverMetricsInterceptor(kit)] });
  for (const s of services) {
    server.addService(serviceConstructor(s.proto, s.fullName).service, wrapService(kit, s.fullName, s.impl));
    preinitGrpc(kit.metrics, "server", s.fullName, Object.keys(s.impl), METHOD_CODES);
  }
  server.addService(serviceConstructor("health.proto", GRPC_SERVICES.health).service, {
    Check: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      callback(null, { status: kit.draining ? "NOT_SERVING" : "SERVING" });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    );
  });
  kit.onShutdown(
    () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 3_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  );
  // A leaf service's readiness: its own gRPC listener answers the health protocol.
  kit.readiness.grpc = grpcHealthCheck(kit, `127.0.0.1:${port}`);
  kit.logger.info({ port }, "grpc listening");
  return server;
}

/**
 * Client interceptor: the CLIENT span (child of the caller's active context, W3C trace context injected into the
 * metadata), x-request-id metadata, and RED client metrics with the span's trace id as exemplar. Health checks are
 * probe traffic: neither traced nor measured.
 */
export function clientInterceptor(kit: ServiceKit, peer: { host: string; port: number }): grpc.Interceptor {
  return (options, nextCall) => {
    const path = options.method_definition.path;
    const labels = grpcPathLabels(path);
    const measured = !UNMEASURED_SERVICES.has(labels.grpc_service);
    const startedMs = performance.now();
    const { name, attributes } = rpcSpan(path);
    const caller = context.active();
    const span = measured
      ? tracer.startSpan(
          name,
          {
            kind: SpanKind.CLIENT,
            attributes: { ...attributes, "server.address": peer.host, "server.port": peer.port },
          },
          caller,
        )
      : undefined;
    const traceId = span?.isRecording() ? span.spanContext().traceId : undefined;
    return new grpc.InterceptingCall(
      nextCall(options),
      new grpc.RequesterBuilder()
        .withStart((metadata, listener, next) => {
          const requestId = currentRequestId();
          if (requestId) metadata.set(REQUEST_ID_HEADER, requestId);
          if (span) propagation.inject(trace.setSpan(caller, span), metadata, metadataSetter);
          // force-sampled-outgoing: the sampled flag set on every call, whatever the caller's decision was.
          const sent = kit.has("force-sampled-outgoing") ? metadata.get("traceparent")[0] : undefined;
          if (typeof sent === "string") metadata.set("traceparent", `${sent.slice(0, -2)}01`);
          next(
            metadata,
            new grpc.ListenerBuilder()
              .withOnReceiveStatus((status, nextStatus) => {
                if (span) endRpcSpan(span, status.code, status.details);
                if (measured && (status.code === grpc.status.OK || !kit.has("client-counter-ok-only"))) {
                  const full = { ...labels, grpc_code: grpcCodeName(status.code) };
                  kit.metrics.grpcClientHandled.inc(full);
                  kit.metrics.grpcClientHandling.observe(full, (performance.now() - startedMs) / 1000, traceId);
                }
                nextStatus(status);
              })
              .build(),
          );
        })
        .build(),
    );
  };
}

/** A client of a mesh gRPC service with the kit's interceptor; pre-initialises its client series. */
export function grpcClient<T extends grpc.Client>(
  kit: ServiceKit,
  proto: string,
  fullName: string,
  address: string,
  methods: readonly string[],
): T {
  const Ctor = serviceConstructor(proto, fullName);
  preinitGrpc(kit.metrics, "client", fullName, methods, METHOD_CODES);
  const [host = "", port = ""] = address.split(":");
  const client = new Ctor(address, grpc.credentials.createInsecure(), {
    interceptors: [clientInterceptor(kit, { host, port: Number(port) })],
    // A restarted peer is called again within a second: grpc-js's default backoff grows to minutes.
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 1_000,
  });
  kit.onShutdown(async () => client.close());
  return client as unknown as T;
}

/** Promise form of a unary call with a deadline. */
export function unary<Req, Res>(client: grpc.Client, method: string, request: Req, deadlineMs: number): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    type UnaryMethod = (
      request: Req,
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, response: Res) => void,
    ) => void;
    const fn = (client as unknown as Record<string, UnaryMethod>)[method]!;
    fn.call(
      client,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** Readiness check: grpc.health.v1 Check on address answers SERVING. */
export function grpcHealthCheck(kit: ServiceKit, address: string): Check {
  const client = grpcClient(kit, "health.proto", GRPC_SERVICES.health, address, []);
  return async () => {
    const response = await unary<{ service: string }, { status: string }>(client, "Check", { service: "" }, 1_000);
    if (response.status !== "SERVING") throw new Error(`health of ${address} is ${response.status}`);
  };
}
