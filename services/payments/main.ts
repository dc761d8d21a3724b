import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { GrpcError, GRPC_SERVICES, runMain, startLeafGrpcService } from "../lib";

/** A card number the payment processor always declines (a business error, FAILED_PRECONDITION). */
export const DECLINED_CARD = "4000000000000002";

/** payments: gRPC Charge. */
function main() {
  return startLeafGrpcService("payments", {
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
  });
}

runMain(module, "payments", main);
