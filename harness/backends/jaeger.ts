import fs from "node:fs";
import path from "node:path";
import { LOOPBACK } from "../util/ports";
import { httpOk, renderTemplate, startComponent, type ComponentRunner, type StartedComponent } from "./component";
import { JaegerTraceStore } from "./trace-store";

export type JaegerPort = "otlpGrpc" | "otlpHttp" | "query" | "queryGrpc";

/** A started Jaeger v2: OTLP gRPC and HTTP receivers, in-memory store, query HTTP API. */
export interface StartedJaeger {
  component: StartedComponent<JaegerPort>;
  /** host:port for OTLP/gRPC exporters. */
  otlpGrpcEndpoint: string;
  /** Base URL for OTLP/HTTP exporters (append /v1/traces). */
  otlpHttpUrl: string;
  queryUrl: string;
  traces: JaegerTraceStore;
}

export async function startJaeger(
  runner: ComponentRunner,
  runDir: string,
  options: { fixedPorts?: Partial<Record<JaegerPort, number>>; maxTraces?: number } = {},
): Promise<StartedJaeger> {
  const component = await startComponent(
    {
      name: "jaeger",
      portNames: ["otlpGrpc", "otlpHttp", "query", "queryGrpc"],
      fixedPorts: options.fixedPorts,
      args: (ports, dir) => {
        const file = path.join(dir, "config.yaml");
        fs.writeFileSync(file, jaegerConfig(ports, options.maxTraces ?? 100_000));
        return [`--config=${file}`];
      },
      ready: (ports) => httpOk(`http://${LOOPBACK}:${ports.query}/api/services`),
      readyDescription: (ports) => `GET http://${LOOPBACK}:${ports.query}/api/services`,
    },
    runDir,
    runner,
  );
  const queryUrl = `http://${LOOPBACK}:${component.ports.query}`;
  return {
    component,
    otlpGrpcEndpoint: `${LOOPBACK}:${component.ports.otlpGrpc}`,
    otlpHttpUrl: `http://${LOOPBACK}:${component.ports.otlpHttp}`,
    queryUrl,
    traces: new JaegerTraceStore(queryUrl),
  };
}

function jaegerConfig(ports: Record<JaegerPort, number>, maxTraces: number): string {
  return renderTemplate("jaeger.yaml", {
    HOST: LOOPBACK,
    QUERY_PORT: ports.query,
    QUERY_GRPC_PORT: ports.queryGrpc,
    OTLP_GRPC_PORT: ports.otlpGrpc,
    OTLP_HTTP_PORT: ports.otlpHttp,
    MAX_TRACES: maxTraces,
  });
}
