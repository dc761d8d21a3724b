import * as grpc from "@grpc/grpc-js";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { GRPC_SERVICES, grpcClient, GrpcError, startGrpcServer, unary } from "../../../services/lib";
import { freePort } from "../../../harness/util/ports";
import { makeKit, shutdown } from "./kit-fixtures";

// The kit makes gRPC spans itself (not instrumentation-grpc): prove the CLIENT span is a child of the caller, the
// SERVER span a child of the CLIENT span across the wire, with the stable rpc.* attributes and ERROR on failures.
const exporter = new InMemorySpanExporter();
const METHOD = `grpc.${GRPC_SERVICES.payments}/Charge`;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

test("gRPC client and server spans: parentage across the wire, rpc.* attributes, status per outcome", async () => {
  const server = makeKit([], "payments");
  const client = makeKit([], "orders");
  const port = await freePort();
  await startGrpcServer(server, port, [
    {
      proto: "payments.proto",
      fullName: GRPC_SERVICES.payments,
      impl: {
        Charge: async (request: { card: string }) => {
          if (request.card === "outage") throw new GrpcError(grpc.status.UNAVAILABLE, "processor down");
          return { paymentId: "p1" };
        },
      },
    },
  ]);
  const payments = grpcClient<grpc.Client>(client, "payments.proto", GRPC_SERVICES.payments, `127.0.0.1:${port}`, [
    "Charge",
  ]);
  const charge = (card: string) =>
    unary(payments, "Charge", { orderId: "o1", amountCents: 100, card }, 2_000).then(
      () => "OK",
      (error: grpc.ServiceError) => grpc.status[error.code],
    );
  try {
    const parent = trace.getTracer("test").startSpan("caller");
    const outcomes = await context.with(trace.setSpan(context.active(), parent), async () => [
      await charge("4111"),
      await charge("outage"),
    ]);
    parent.end();
    expect(outcomes).toEqual(["OK", "UNAVAILABLE"]);
    expect(await server.readyz()).toMatchObject({ httpStatus: 200 }); // a health check: no span

    const spans = exporter.getFinishedSpans().filter((s) => s.name === METHOD);
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    expect([clients.length, servers.length]).toEqual([2, 2]);
    expect(exporter.getFinishedSpans().map((s) => s.name)).not.toContain(`grpc.${GRPC_SERVICES.health}/Check`);

    const byCode = (list: ReadableSpan[], code: number) =>
      list.find((s) => s.attributes["rpc.grpc.status_code"] === code)!;
    for (const [code, status] of [
      [grpc.status.OK, SpanStatusCode.UNSET],
      [grpc.status.UNAVAILABLE, SpanStatusCode.ERROR],
    ] as const) {
      const clientSpan = byCode(clients, code);
      const serverSpan = byCode(servers, code);
      expect(clientSpan.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(clientSpan.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(serverSpan.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
      expect(clientSpan.attributes).toMatchObject({
        "rpc.system": "grpc",
        "rpc.service": GRPC_SERVICES.payments,
        "rpc.method": "Charge",
        "server.address": "127.0.0.1",
        "server.port": port,
      });
      expect(serverSpan.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.method": "Charge" });
      expect([clientSpan.status.code, serverSpan.status.code]).toEqual([status, status]);
    }
    // The failure is recorded as an exception on the SERVER span.
    expect(byCode(servers, grpc.status.UNAVAILABLE).events.map((e) => e.name)).toContain("exception");
  } finally {
    await Promise.all([shutdown(client), shutdown(server)]);
  }
});
