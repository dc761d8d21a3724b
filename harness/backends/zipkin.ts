import { LOOPBACK } from "../util/ports";
import { httpOk, startComponent, type ComponentRunner, type StartedComponent } from "./component";
import { ZipkinTraceStore } from "./trace-store";

/** A started Zipkin server: in-memory storage, its v2 span intake and query API on one port. */
export interface StartedZipkin {
  component: StartedComponent<"http">;
  /** Where services send spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
  spansUrl: string;
  url: string;
  traces: ZipkinTraceStore;
}

/** Spans Zipkin's in-memory store keeps before it drops the oldest (its own default is 500,000). */
const MAX_SPANS = 1_000_000;

export async function startZipkin(runner: ComponentRunner, runDir: string, fixedPort?: number): Promise<StartedZipkin> {
  const component = await startComponent(
    {
      name: "zipkin",
      portNames: ["http"],
      fixedPorts: { http: fixedPort },
      // Spring Boot properties as arguments: one listener, on the loopback address only.
      args: (ports) => [
        `--armeria.ports[0].ip=${LOOPBACK}`,
        `--armeria.ports[0].port=${ports.http}`,
        `--zipkin.storage.mem.max-spans=${MAX_SPANS}`,
      ],
      ready: (ports) => httpOk(`http://${LOOPBACK}:${ports.http}/health`),
      readyDescription: (ports) => `GET http://${LOOPBACK}:${ports.http}/health`,
      // A JVM: about 5 s here when idle, several times that on a busy machine.
      readyTimeoutMs: 90_000,
    },
    runDir,
    runner,
  );
  const url = `http://${LOOPBACK}:${component.ports.http}`;
  return { component, spansUrl: `${url}/api/v2/spans`, url, traces: new ZipkinTraceStore(url) };
}
