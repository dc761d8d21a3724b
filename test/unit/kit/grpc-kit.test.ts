import * as grpc from "@grpc/grpc-js";
import { GRPC_SERVICES, grpcClient, GrpcError, startGrpcServer, unary } from "../../../services/lib";
import { freePort } from "../../../harness/util/ports";
import { makeKit, sample, shutdown } from "./kit-fixtures";

const SERVICE = GRPC_SERVICES.payments;

async function serve(defects: Parameters<typeof makeKit>[0] = []) {
  const server = makeKit(defects, "payments");
  const client = makeKit([], "orders");
  const port = await freePort();
  await startGrpcServer(server, port, [
    {
      proto: "payments.proto",
      fullName: SERVICE,
      impl: {
        Charge: async (request: { card: string }) => {
          if (request.card === "declined") throw new GrpcError(grpc.status.FAILED_PRECONDITION, "card declined");
          if (request.card === "outage") throw new GrpcError(grpc.status.UNAVAILABLE, "processor down");
          return { paymentId: "p1" };
        },
      },
    },
  ]);
  const payments = grpcClient<grpc.Client>(client, "payments.proto", SERVICE, `127.0.0.1:${port}`, ["Charge"]);
  const charge = (card: string) =>
    unary(payments, "Charge", { orderId: "o1", amountCents: 100, card }, 2_000).then(
      () => "OK",
      (error: grpc.ServiceError) => grpc.status[error.code],
    );
  return { server, client, charge, stop: () => Promise.all([shutdown(client), shutdown(server)]) };
}

const series = (metric: string, code: string) =>
  `${metric}{grpc_service="${SERVICE}",grpc_method="Charge",grpc_code="${code}"}`;

describe("gRPC interceptors", () => {
  test("server and client counters agree on OK, business error and infrastructure error", async () => {
    const { server, client, charge, stop } = await serve();
    try {
      expect(await charge("4111")).toBe("OK");
      expect(await charge("declined")).toBe("FAILED_PRECONDITION");
      expect(await charge("outage")).toBe("UNAVAILABLE");
      expect(await charge("outage")).toBe("UNAVAILABLE");
      for (const [code, count] of [
        ["OK", 1],
        ["FAILED_PRECONDITION", 1],
        ["UNAVAILABLE", 2],
        ["INTERNAL", 0],
      ] as const) {
        expect(await sample(server, series("grpc_server_handled_total", code))).toBe(count);
        expect(await sample(client, series("grpc_client_handled_total", code))).toBe(count);
        expect(await sample(server, `${series("grpc_server_handling_seconds_count", code)}`)).toBe(count);
      }
      // Health checks are probe traffic and stay out of the RED metrics on both sides.
      expect(await server.readyz()).toMatchObject({ httpStatus: 200 });
      expect(await server.metrics.registry.metrics()).not.toContain("grpc.health.v1");
    } finally {
      await stop();
    }
  });

  test("an error fault answers its code from inside the handler, counted on both sides and as a fault", async () => {
    const { server, client, charge, stop } = await serve();
    try {
      server.faults.add({ kind: "error", target: "Charge", rate: 1, code: "UNAVAILABLE" });
      expect(await charge("4111")).toBe("UNAVAILABLE");
      expect(await sample(server, `meshproof_faults_injected_total{kind="error",target="Charge"}`)).toBe(1);
      expect(await sample(server, series("grpc_server_handled_total", "UNAVAILABLE"))).toBe(1);
      expect(await sample(client, series("grpc_client_handled_total", "UNAVAILABLE"))).toBe(1);
      server.faults.clear();
      server.faults.add({ kind: "error", target: "GetProduct", rate: 1, code: "INTERNAL" });
      expect(await charge("4111")).toBe("OK");
    } finally {
      await stop();
    }
  });
});
