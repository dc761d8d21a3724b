import { randomUUID } from "node:crypto";
import { context, ROOT_CONTEXT } from "@opentelemetry/api";
import type * as grpc from "@grpc/grpc-js";
import Redis from "ioredis";
import { z } from "zod";
import {
  GRPC_SERVICES,
  grpcClient,
  grpcHealthCheck,
  HttpApp,
  HttpError,
  listenHttp,
  loadConfigOrExit,
  ordersStatusForGrpc,
  ORDERS_STATUS_REDIS_ERROR,
  readCommonConfig,
  ROUTE_STATUSES,
  ServiceKit,
  unary,
  runMain,
} from "../lib";

const CreateOrder = z.strictObject({
  items: z.array(z.strictObject({ sku: z.string().min(1), qty: z.number().int() })).min(1),
  card: z.string(),
});

/** Deadline of each call to inventory and payments. */
const GRPC_DEADLINE_MS = 2_000;
const ORDER_TTL_SECONDS = 3_600;

/** orders: POST /orders (inventory Reserve, payments Charge, Redis SET), GET /orders/:id (Redis GET). */
async function main(): Promise<void> {
  const config = loadConfigOrExit("orders", (env) => ({
    ...readCommonConfig(env),
    redisUrl: env.required("MESHPROOF_REDIS_URL"),
    inventoryAddr: env.required("MESHPROOF_INVENTORY_ADDR"),
    paymentsAddr: env.required("MESHPROOF_PAYMENTS_ADDR"),
  }));
  const kit = new ServiceKit(config);

  const redis = new Redis(config.redisUrl, {
    // Fail fast while Redis is unreachable instead of queueing: the error table answers 503 at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1_000,
    connectTimeout: 1_000,
    retryStrategy: () => 200,
    lazyConnect: true,
  });
  redis.on("error", (error) => kit.logger.debug({ err: error.message }, "redis connection error"));
  await redis
    .connect()
    .catch((error: Error) => kit.logger.warn({ err: error.message }, "redis not reachable at start"));
  kit.onShutdown(async () => {
    redis.disconnect();
  });

  const inventory = grpcClient<grpc.Client>(kit, "inventory.proto", GRPC_SERVICES.inventory, config.inventoryAddr, [
    "Reserve",
  ]);
  const payments = grpcClient<grpc.Client>(kit, "payments.proto", GRPC_SERVICES.payments, config.paymentsAddr, [
    "Charge",
  ]);

  const call = async <Res>(
    peer: "inventory" | "payments",
    client: grpc.Client,
    method: string,
    request: unknown,
  ): Promise<Res> => {
    try {
      return await unary<unknown, Res>(client, method, request, GRPC_DEADLINE_MS);
    } catch (error) {
      const code = (error as grpc.ServiceError).code;
      throw new HttpError(ordersStatusForGrpc(peer, code), `${peer} ${method}: ${(error as Error).message}`, error);
    }
  };
  const redisOp = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (error) {
      throw new HttpError(ORDERS_STATUS_REDIS_ERROR, `redis ${what}: ${(error as Error).message}`, error);
    }
  };

  kit.readiness.inventory = grpcHealthCheck(kit, config.inventoryAddr);
  kit.readiness.payments = grpcHealthCheck(kit, config.paymentsAddr);
  const redisCheck = async () => {
    const answer = await redis.ping();
    if (answer !== "PONG") throw new Error(`PING answered ${answer}`);
  };
  if (!kit.has("readyz-ignores-redis")) kit.readiness.redis = redisCheck;
  if (kit.has("liveness-checks-redis")) kit.addLivenessCheck("redis", redisCheck);

  const http = new HttpApp(kit)
    .route("post", "/orders", ROUTE_STATUSES.ordersCreate, async (req, res) => {
      const parsed = CreateOrder.safeParse(req.body);
      if (!parsed.success)
        throw new HttpError(
          400,
          `invalid order: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      const orderId = randomUUID();
      const reservation = await call<{ reservationId: string; totalCents: number }>("inventory", inventory, "Reserve", {
        orderId,
        items: parsed.data.items,
      });
      const charge = () =>
        call<{ paymentId: string }>("payments", payments, "Charge", {
          orderId,
          amountCents: reservation.totalCents,
          card: parsed.data.card,
        });
      // drop-context: the payment call starts from the root context, as a lost async context would.
      const payment = kit.has("drop-context") ? await context.with(ROOT_CONTEXT, charge) : await charge();
      const order = {
        orderId,
        items: parsed.data.items,
        totalCents: reservation.totalCents,
        paymentId: payment.paymentId,
      };
      await redisOp("SET", () => redis.set(`order:${orderId}`, JSON.stringify(order), "EX", ORDER_TTL_SECONDS));
      res.status(201).json(order);
    })
    .route("get", "/orders/:id", ROUTE_STATUSES.ordersGet, async (req, res) => {
      const text = await redisOp("GET", () => redis.get(`order:${String(req.params.id)}`));
      if (text === null) throw new HttpError(404, `no order ${String(req.params.id)}`);
      res.status(200).type("application/json").send(text);
    });

  await listenHttp(kit, http.finish(), config.port);
  await kit.start();
}

runMain(module, "orders", main);
