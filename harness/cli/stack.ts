import { setTimeout as sleep } from "node:timers/promises";
import { BACKEND_NAMES, createBackend, DEFAULT_BACKEND, STACK_PORT_NAMES, type StackPortName } from "../backends";
import { abortOnSignals, AbortedError, parseCliArgs, runCli } from "./run-cli";
import fs from "node:fs";
import path from "node:path";
import type { MeshConfig } from "../config/mesh-config";
import { ConfigError } from "../errors";
import { startMesh, type SampleMesh } from "../mesh/mesh";
import { sampleMeshConfig } from "../mesh/sample-config";
import { chooseMeshLauncher, MESH_RUNTIMES } from "../mesh/mesh-runtime";
import { provisionTools } from "../tools/provision";
import { BACKEND_TOOL_NAMES } from "../tools/tools";

const USAGE = `usage: npm run stack -- [--backend ${BACKEND_NAMES.join("|")}] [--port NAME=PORT ...] [--hold-ms MS] [--mesh FILE [--mesh-runtime native|docker]]
  Starts Jaeger, Prometheus, Redis and Toxiproxy on 127.0.0.1, prints their endpoints as one JSON line on stdout,
  and keeps them up until --hold-ms has passed (default: until SIGINT/SIGTERM).
  --mesh FILE: also start the sample mesh on them, as its owner would (npm run mesh), and write the meshproof config
               that describes it to FILE (no admin API, no pids: judge it with npm run scenario -- --config FILE);
               --mesh-runtime: its services as native processes or containers (default: the backend's)
  --backend: auto (default: docker when an engine answers and the images are built, else native), native, docker
  --port names: ${STACK_PORT_NAMES.join(", ")}`;

function parsePorts(specs: string[]): Partial<Record<StackPortName, number>> {
  const ports: Partial<Record<StackPortName, number>> = {};
  for (const spec of specs) {
    const [name, value] = spec.split("=");
    const port = Number(value);
    if (!STACK_PORT_NAMES.includes(name as StackPortName)) {
      throw new ConfigError(`--port ${spec}: unknown port name "${name}"; valid names: ${STACK_PORT_NAMES.join(", ")}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`--port ${spec}: port must be an integer 1..65535 (got "${value}")`);
    }
    ports[name as StackPortName] = port;
  }
  return ports;
}

runCli(async () => {
  const { values } = parseCliArgs(
    {
      backend: { type: "string", default: DEFAULT_BACKEND },
      port: { type: "string", multiple: true, default: [] },
      "hold-ms": { type: "string" },
      mesh: { type: "string" },
      "mesh-runtime": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const runtime = values["mesh-runtime"];
  if (runtime !== undefined && !values.mesh) throw new ConfigError(`--mesh-runtime needs --mesh FILE\n${USAGE}`);
  if (runtime !== undefined && !(MESH_RUNTIMES as readonly string[]).includes(runtime))
    throw new ConfigError(`--mesh-runtime ${runtime}: valid values: ${MESH_RUNTIMES.join(", ")}`);
  const holdMs = values["hold-ms"] === undefined ? undefined : Number(values["hold-ms"]);
  if (holdMs !== undefined && !(holdMs >= 0))
    throw new ConfigError(`--hold-ms must be a number >= 0 (got "${values["hold-ms"]}")`);
  const backend = createBackend(values.backend);
  const ports = parsePorts(values.port);
  const signal = abortOnSignals();
  const tools = await provisionTools({ tools: BACKEND_TOOL_NAMES });

  const startedAt = performance.now();
  await using stack = await backend.start({ ports, tools });
  const startMs = Math.round(performance.now() - startedAt);
  const endpoints = {
    backend: stack.backend,
    runDir: stack.runDir,
    startMs,
    jaeger: {
      otlpGrpc: stack.jaeger.otlpGrpcEndpoint,
      otlpHttp: stack.jaeger.otlpHttpUrl,
      query: stack.jaeger.queryUrl,
    },
    prometheus: stack.prometheus.url,
    redis: stack.redis.url,
    toxiproxy: stack.toxiproxy.url,
    tools: stack.tools,
    pids: stack.pids(),
    containers: stack.containers(),
  };
  process.stdout.write(`${JSON.stringify(endpoints)}\n`);
  process.stderr.write(`stack ready in ${startMs} ms; logs in ${stack.runDir}/logs\n`);
  const launcher = values.mesh
    ? await chooseMeshLauncher(runtime, stack, {
        backendRequested: values.backend,
        impls: ["node"],
        tools,
        log: (line) => process.stderr.write(`${line}\n`),
      })
    : undefined;
  if (launcher) process.stderr.write(`mesh runtime: ${launcher.runtime} (${launcher.reason})\n`);
  await using mesh = launcher ? await startMesh(stack, { launcher: launcher.launcher }) : undefined;
  if (mesh && values.mesh) {
    const file = path.resolve(values.mesh);
    fs.writeFileSync(file, `${JSON.stringify(await configOf(mesh, stack), null, 2)}\n`);
    process.stderr.write(`sample mesh ready; its meshproof config: ${file}\n`);
  }
  try {
    await sleep(holdMs ?? 2 ** 31 - 1, undefined, { signal });
  } catch (error) {
    if (signal.reason instanceof AbortedError) return 2;
    throw error;
  }
  return 0;
});

/** The config that describes a running sample mesh to the judge as a mesh it did not start. */
async function configOf(
  mesh: SampleMesh,
  stack: { jaeger: { queryUrl: string }; prometheus: { url: string }; toxiproxy: { url: string } },
): Promise<MeshConfig> {
  const proxies = Object.fromEntries(
    (await mesh.toxiproxy!.proxies()).map((p) => [p.name, { proxy: p.name, address: p.upstream }]),
  );
  return sampleMeshConfig({
    name: "sample mesh (npm run mesh)",
    services: Object.fromEntries(
      Object.values(mesh.services).map((s) => [
        s.name,
        {
          ...(s.role === "edge" ? { url: mesh.edgeUrl } : {}),
          metricsUrl: s.metricsUrl!,
          healthzUrl: s.healthzUrl!,
          readyzUrl: s.readyzUrl!,
          contract: s.impl,
          logFile: s.jsonLogFile,
        },
      ]),
    ) as never,
    traces: { jaegerQueryUrl: stack.jaeger.queryUrl },
    prometheus: { url: stack.prometheus.url, job: mesh.scrapeJob },
    toxiproxy: { url: stack.toxiproxy.url, proxies },
  });
}
