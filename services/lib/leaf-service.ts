import { loadConfigOrExit, readCommonConfig } from "./config";
import { startGrpcServer, type GrpcServiceRegistration } from "./grpc-kit";
import { listenHttp, opsApp } from "./http-kit";
import { ServiceKit } from "./kit";

/**
 * A leaf gRPC service (no downstream): config (common + MESHPROOF_OPS_PORT), the kit, the gRPC server with its
 * services and grpc.health.v1, the ops HTTP listener (/metrics, /healthz, /readyz), and the admin API.
 */
export async function startLeafGrpcService(name: string, registration: GrpcServiceRegistration): Promise<ServiceKit> {
  const config = loadConfigOrExit(name, (env) => ({
    ...readCommonConfig(env),
    opsPort: env.required("MESHPROOF_OPS_PORT"),
  }));
  const kit = new ServiceKit(config);
  await startGrpcServer(kit, config.port, [registration]);
  await listenHttp(kit, opsApp(kit), config.opsPort);
  await kit.start();
  return kit;
}

/** Runs a service's main when the file is the entry point: a start failure prints the stack and exits 1. */
export function runMain(module: NodeJS.Module, name: string, main: () => Promise<unknown>): void {
  if (require.main !== module) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${name} failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
