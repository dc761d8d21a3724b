import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { GrpcError, GRPC_SERVICES, runMain, startLeafGrpcService } from "../lib";
import { createCatalog } from "./catalog";

/** inventory: gRPC GetProduct and Reserve over an in-memory catalog. */
function main() {
  const catalog = createCatalog();
  return startLeafGrpcService("inventory", {
    proto: "inventory.proto",
    fullName: GRPC_SERVICES.inventory,
    impl: {
      GetProduct: async (request: { sku: string }) => {
        const product = catalog.get(request.sku);
        if (!product) throw new GrpcError(grpc.status.NOT_FOUND, `unknown sku "${request.sku}"`);
        return product;
      },
      Reserve: async (request: { orderId: string; items: { sku: string; qty: number }[] }) => {
        if (request.items.length === 0) throw new GrpcError(grpc.status.INVALID_ARGUMENT, "no items");
        let totalCents = 0;
        for (const item of request.items) {
          if (!(item.qty >= 1)) throw new GrpcError(grpc.status.INVALID_ARGUMENT, `qty of ${item.sku} must be >= 1`);
          const product = catalog.get(item.sku);
          if (!product) throw new GrpcError(grpc.status.NOT_FOUND, `unknown sku "${item.sku}"`);
          if (product.stock < item.qty) {
            throw new GrpcError(grpc.status.FAILED_PRECONDITION, `out of stock: ${item.sku} (${product.stock} left)`);
          }
        }
        for (const item of request.items) {
          const product = catalog.get(item.sku)!;
          product.stock -= item.qty;
          totalCents += product.priceCents * item.qty;
        }
        return { reservationId: randomUUID(), totalCents };
      },
    },
  });
}

runMain(module, "inventory", main);
