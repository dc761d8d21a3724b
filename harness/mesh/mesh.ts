import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { StartedStack } from "../backends/stack";
import type { ToxiproxyClient } from "../backends/toxiproxy";
import { retryUntil } from "../util/retry";
import type { ServiceLauncher } from "./launcher";
import { checkMeshOptions, type MeshOptions } from "./mesh-options";
import {
  planPorts,
  planServices,
  meshNames,
  scrapeTargets,
  serviceLaunch,
  START_ORDER,
  upstreams,
  type ServicePlan,
} from "./mesh-plan";
import { processLauncher } from "./process-launcher";
import { MESH_LINKS, type MeshLink } from "./sample-mesh";
import { sampleMesh, sampleService, type SampleMesh, type SampleService } from "./started-sample-mesh";

// What this module exported before it was split, for its importers.
export type { TelemetryMode } from "./launcher";
export type { MeshOptions } from "./mesh-options";
export { HEAP_LIMIT_BYTES, otelEnvironment } from "./mesh-plan";
export { NODE_FLAGS, processLauncher } from "./process-launcher";
export { checkDefects, KNOWN_DEFECTS, MESH_LINKS, MESH_SERVICES, SAMPLE_MESH } from "./sample-mesh";
export type { Impl, MeshLink, MeshServiceName } from "./sample-mesh";
export type { NativeMesh, NativeService, SampleMesh, SampleService } from "./started-sample-mesh";

/**
 * Starts gateway, orders, inventory and payments against the stack: free ports, config by env, every network link
 * (gateway -> orders, gateway -> inventory, orders -> inventory, orders -> payments, orders -> Redis) through its
 * own Toxiproxy proxy, every /readyz 200, /metrics registered with Prometheus (job "mesh"). The services run where
 * options.launcher puts them (native processes by default, or containers): the wiring is the same. A start that fails
 * half-way stops what it started and rethrows with the last log lines.
 */
export async function startMesh(stack: StartedStack, options: MeshOptions = {}): Promise<SampleMesh> {
  checkMeshOptions(options);
  // Ports are chosen free, then bound by the services a moment later: another process (another run on the machine)
  // can take one in between. Such a start is tried again with new ports, as a backend tool's is.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMeshOnce(stack, options);
    } catch (error) {
      const lostPort = error instanceof Error && /EADDRINUSE|address already in use/.test(error.message);
      if (!lostPort || attempt >= PORT_ATTEMPTS || options.signal?.aborted) throw error;
    }
  }
}

/** Starts with ports chosen up to this many times when a chosen port was taken before a service bound it. */
const PORT_ATTEMPTS = 3;

async function startMeshOnce(stack: StartedStack, options: MeshOptions): Promise<SampleMesh> {
  const launcher = options.launcher ?? processLauncher();
  const logDir = path.join(options.runDir ?? stack.runDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const adminToken = options.adminToken ?? randomBytes(24).toString("hex");
  const toxiproxy = stack.toxiproxy.client;
  const ports = await planPorts();
  const { scrapeJob, proxy } = meshNames(options.namespace);
  const proxies = await createProxies(toxiproxy, upstreams(ports, stack.redis), proxy);
  const plans = planServices({ stack, options, ports, proxies: proxies.listen, adminToken, logDir });

  const started: SampleService[] = [];
  // Targets go in before the services start: Prometheus takes 5-10 s to act on a file_sd change (two fixed 5 s
  // throttles), which then overlaps with start-up instead of delaying the first scrape.
  stack.prometheus.addTargets(scrapeJob, scrapeTargets(plans));
  const release = async () => {
    stack.prometheus.removeTargets(scrapeJob);
    await Promise.all(started.map((s) => s.handle.dispose()));
    await proxies.remove();
  };
  try {
    await launchServices(plans, { launcher, options, logDir, adminToken }, started);
    started.sort((a, b) => START_ORDER.indexOf(a.name) - START_ORDER.indexOf(b.name));
    await waitUntilReady(started, options);
  } catch (error) {
    await release();
    throw startFailure(error, started);
  }
  return sampleMesh({
    kind: launcher.kind,
    started,
    gatewayPort: ports.gateway.port,
    toxiproxy,
    proxies: proxies.names,
    scrapeJob,
    release,
  });
}

/** The Toxiproxy proxies of the mesh's links: their names and listen addresses by link, and their removal. */
interface LinkProxies {
  names: Record<MeshLink, string>;
  listen: Record<MeshLink, string>;
  remove(): Promise<unknown>;
}

/** Creates a proxy per link, in MESH_LINKS order, named by `proxy`; a failure removes those created and rethrows. */
async function createProxies(
  toxiproxy: ToxiproxyClient,
  upstream: Record<MeshLink, string>,
  proxy: (link: string) => string,
): Promise<LinkProxies> {
  const names = Object.fromEntries(MESH_LINKS.map((l) => [l, proxy(l)])) as Record<MeshLink, string>;
  const listen = {} as Record<MeshLink, string>;
  const remove = () => Promise.all(Object.keys(listen).map((link) => toxiproxy.deleteProxy(names[link as MeshLink])));
  try {
    for (const link of MESH_LINKS) listen[link] = (await toxiproxy.createProxy(names[link], upstream[link])).listen;
  } catch (error) {
    await remove();
    throw error;
  }
  return { names, listen, remove };
}

interface LaunchContext {
  launcher: ServiceLauncher;
  options: MeshOptions;
  logDir: string;
  adminToken: string;
}

/**
 * Launches every planned service at once. Each one that launches joins `started` (so that a failure can stop it);
 * once all have settled, the first failure is thrown.
 */
async function launchServices(plans: ServicePlan[], context: LaunchContext, started: SampleService[]): Promise<void> {
  const { launcher, options, logDir, adminToken } = context;
  const launches = await Promise.allSettled(
    plans.map(async (plan) => {
      const launch = serviceLaunch(plan, options, logDir);
      const handle = await launcher.launch(launch);
      started.push(sampleService(plan, launch, handle, adminToken, options.contracts?.[plan.name]));
    }),
  );
  const failed = launches.find((l): l is PromiseRejectedResult => l.status === "rejected");
  if (failed) throw failed.reason;
}

/** Waits until every service's /readyz answers 200 (options.readyTimeoutMs); one that exits fails at once. */
async function waitUntilReady(services: readonly SampleService[], options: MeshOptions): Promise<void> {
  const deadlineMs = options.readyTimeoutMs ?? 30_000;
  await Promise.all(
    services.map((s) =>
      retryUntil(
        async () => (await fetch(s.readyzUrl!, { signal: AbortSignal.timeout(2_000) })).status,
        (status) => status === 200,
        {
          timeoutMs: deadlineMs,
          description: `${s.name} GET ${s.readyzUrl} = 200`,
          maxDelayMs: 200,
          ...(options.signal ? { signal: options.signal } : {}),
          failFast: () => (s.handle.running ? undefined : new Error(`${s.name} ${s.handle.exitDescription}`)),
        },
      ),
    ),
  );
}

/** The error of a failed start: its cause's message and the last log lines of every service that launched. */
function startFailure(error: unknown, started: readonly SampleService[]): Error {
  const tails = started.map((s) => `--- ${s.name} (${s.logFile}) ---\n${s.handle.logTail(20)}`).join("\n");
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`mesh did not start: ${message}\n${tails}`, { cause: error });
}
