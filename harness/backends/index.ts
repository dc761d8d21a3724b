import { ConfigError } from "../errors";
import { AutoBackend } from "./auto-backend";
import { DockerBackend } from "./docker-backend";
import { NativeBackend } from "./native-backend";
import type { Backend } from "./stack";

export { AutoBackend } from "./auto-backend";
export type { BackendChoice } from "./auto-backend";
export { DockerBackend, RUN_LABEL } from "./docker-backend";
export type { DockerBackendImages } from "./docker-backend";
export { NativeBackend } from "./native-backend";
export { STACK_PORT_NAMES, TRACE_STORE_NAMES } from "./stack";
export type { Backend, BackendStartOptions, StackPortName, StartedStack, TraceStoreName } from "./stack";
export { JaegerTraceStore, normaliseJaegerTrace, normaliseZipkinTrace, ZipkinTraceStore } from "./trace-store";
export type { JaegerSpan, JaegerTrace, TraceStore, ZipkinSpan } from "./trace-store";
export { PrometheusClient, StartedPrometheus } from "./prometheus";
export type { PromSample, PromSeries, ScrapeTarget } from "./prometheus";
export { ToxiproxyClient } from "./toxiproxy";
export type { ProxyInfo, ToxicSpec } from "./toxiproxy";
export { redisPing } from "./redis";

const BACKENDS: Record<string, () => Backend> = {
  auto: () => new AutoBackend(),
  native: () => new NativeBackend(),
  docker: () => new DockerBackend(),
};

/** The default of `npm run scenario` and `npm run stack`: docker when usable, native otherwise. */
export const DEFAULT_BACKEND = "auto";

export const BACKEND_NAMES = Object.keys(BACKENDS);

/** ConfigError (exit 2) listing the valid names unless `name` is a backend: checked before anything starts. */
export function checkBackendName(name: string): void {
  if (!Object.hasOwn(BACKENDS, name))
    throw new ConfigError(`unknown backend "${name}"; valid backends: ${BACKEND_NAMES.join(", ")}`);
}

/** The backend called name; ConfigError (exit 2) listing the valid names otherwise. */
export function createBackend(name: string): Backend {
  checkBackendName(name);
  return BACKENDS[name]!();
}
