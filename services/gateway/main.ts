import axios from "axios";
import type * as grpc from "@grpc/grpc-js";
import {
  gatewayStatusForInventory,
  gatewayStatusForOrders,
  GRPC_SERVICES,
  grpcClient,
  grpcHealthCheck,
  HttpApp,
  httpCheck,
  httpClient,
  HttpError,
  listenHttp,
  loadConfigOrExit,
  readCommonConfig,
  ROUTE_STATUSES,
  ServiceKit,
  unary,
  runMain,
} from "../lib";

const ORDERS_TIMEOUT_MS = 5_000;
const INVENTORY_DEADLINE_MS = 2_000;

/** gateway: the HTTP edge. POST /api/checkout -> orders; GET /api/orders/:id -> orders; GET /api/products/:sku -> inventory. */
async function main(): Promise<void> {
  const config = loadConfigOrExit("gateway", (env) => ({
    ...readCommonConfig(env),
    ordersUrl: env.required("MESHPROOF_ORDERS_URL"),
    inventoryAddr: env.required("MESHPROOF_INVENTORY_ADDR"),
  }));
  const kit = new ServiceKit(config);
  const orders = httpClient(kit, {
    peer: "orders",
    baseURL: config.ordersUrl,
    timeoutMs: ORDERS_TIMEOUT_MS,
    preinit: [
      { method: "POST", statuses: ROUTE_STATUSES.ordersCreate },
      { method: "GET", statuses: ROUTE_STATUSES.ordersGet },
    ],
  });
  const inventory = grpcClient<grpc.Client>(kit, "inventory.proto", GRPC_SERVICES.inventory, config.inventoryAddr, [
    "GetProduct",
  ]);

  kit.readiness.orders = httpCheck(`${config.ordersUrl}/healthz`);
  kit.readiness.inventory = grpcHealthCheck(kit, config.inventoryAddr);

  /** Forwards to orders and maps its answer by the error table. */
  const forward = async (send: () => Promise<{ status: number; data: unknown }>) => {
    let response: { status: number; data: unknown };
    try {
      response = await send();
    } catch (error) {
      const timedOut = axios.isAxiosError(error) && error.code === "ECONNABORTED";
      throw new HttpError(gatewayStatusForOrders(undefined, timedOut), `orders: ${(error as Error).message}`, error);
    }
    const status = gatewayStatusForOrders(response.status);
    if (status !== response.status) {
      const detail = (response.data as { error?: string } | undefined)?.error ?? "";
      throw new HttpError(status, `orders answered ${response.status}${detail ? `: ${detail}` : ""}`);
    }
    return response;
  };

  const http = new HttpApp(kit)
    .route("post", "/api/checkout", ROUTE_STATUSES.gatewayCheckout, async (req, res) => {
      const response = await forward(() => orders.post("/orders", req.body));
      res.status(response.status).json(response.data);
    })
    .route("get", "/api/orders/:id", ROUTE_STATUSES.gatewayOrder, async (req, res) => {
      const response = await forward(() => orders.get(`/orders/${encodeURIComponent(String(req.params.id))}`));
      res.status(response.status).json(response.data);
    })
    .route("get", "/api/products/:sku", ROUTE_STATUSES.gatewayProduct, async (req, res) => {
      try {
        res
          .status(200)
          .json(await unary(inventory, "GetProduct", { sku: String(req.params.sku) }, INVENTORY_DEADLINE_MS));
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        throw new HttpError(
          gatewayStatusForInventory(code),
          `inventory GetProduct: ${(error as Error).message}`,
          error,
        );
      }
    });

  await listenHttp(kit, http.finish(), config.port);
  await kit.start();
}

runMain(module, "gateway", main);
