import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import {
  GrpcError,
  GRPC_SERVICES,
  listenHttp,
  loadConfigOrExit,
  opsApp,
  readCommonConfig,
  ServiceKit,
  startGrpcServer,
} from "../lib";

/** A card number the payment processor always declines (a business error, FAILED_PRECONDITION). */
export const DECLINED_CARD = "4000000000000002";

/** payments: gRPC Charge. */
async function main(): Promise<void> {
  const config = loadConfigOrExit("payments", (env) => ({
    ...readCommonConfig(env),
    opsPort: env.required("MESHPROOF_OPS_PORT"),
  }));
  const kit = new ServiceKit(config);

  await startGrpcServer(kit, config.port, [
    {
      proto: "payments.proto",
      fullName: GRPC_SERVICES.payments,
      impl: {
        Charge: async (request: { orderId: string; amountCents: number; card: string }) => {
          if (!/^\d{12,19}$/.test(request.card))
            throw new GrpcError(grpc.status.INVALID_ARGUMENT, "card must be 12-19 digits");
          if (!(request.amountCents > 0)) throw new GrpcError(grpc.status.INVALID_ARGUMENT, "amount must be > 0");
          if (request.card === DECLINED_CARD) throw new GrpcError(grpc.status.FAILED_PRECONDITION, "card declined");
          return { paymentId: randomUUID() };
        },
      },
    },
  ]);
  await listenHttp(kit, opsApp(kit), config.opsPort);
  await kit.start();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`payments failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
