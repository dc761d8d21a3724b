import fs from "node:fs";
import path from "node:path";
import { LOOPBACK } from "../util/ports";
import { httpOk, startComponent, type StartedComponent } from "./component";
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
  binary: string,
  runDir: string,
  options: { fixedPorts?: Partial<Record<JaegerPort, number>>; maxTraces?: number } = {},
): Promise<StartedJaeger> {
  const component = await startComponent(
    {
      name: "jaeger",
      portNames: ["otlpGrpc", "otlpHttp", "query", "queryGrpc"],
      fixedPorts: options.fixedPorts,
      launch: (ports, dir) => {
        const file = path.join(dir, "config.yaml");
        fs.writeFileSync(file, jaegerConfig(ports, options.maxTraces ?? 100_000));
        return { command: binary, args: [`--config=${file}`] };
      },
      ready: (ports) => httpOk(`http://${LOOPBACK}:${ports.query}/api/services`),
      readyDescription: (ports) => `GET http://${LOOPBACK}:${ports.query}/api/services`,
    },
    runDir,
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

// Self-tracing is off: it exports to localhost:4317 (maybe another run's Jaeger) and stalls shutdown on retries.
// Every listener is set explicitly: Jaeger's defaults (8888 metrics, 16686 query, 4317 OTLP) would collide
// between two runs on one machine.
function jaegerConfig(ports: Record<JaegerPort, number>, maxTraces: number): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: ${LOOPBACK}:${ports.query}
    grpc:
      endpoint: ${LOOPBACK}:${ports.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: ${maxTraces}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${LOOPBACK}:${ports.otlpGrpc}
      http:
        endpoint: ${LOOPBACK}:${ports.otlpHttp}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}
