import { defineConfig } from "../../harness/config/mesh-config";

/**
 * Jaeger's HotROD example (examples/hotrod of github.com/jaegertracing/jaeger v1.76.0, built by `npm run setup`),
 * launched by meshproof as four processes with every call through proxies meshproof controls. What it states is what
 * HotROD was measured to do (FINDINGS.md beside it) and what its code promises; what it does not state, the judge
 * does not expect. Run from the repository root: `npm run scenario -- --config examples/hotrod/meshproof.config.ts`.
 */
const HOSTS = ["frontend", "customer", "driver", "route"].map((s) => `--${s}-service-hostname=127.0.0.1`);

/** `hotrod <service>` on its own port; the frontend reaches the others through their links' proxies. */
function hotrod(service: string, calls: Record<string, string> = {}) {
  return {
    command: [
      "{{tool:hotrod}}",
      service,
      "-x",
      "otlp",
      ...HOSTS,
      `--${service}-service-port={{port:${service}}}`,
      ...Object.entries(calls).map(([callee, link]) => `--${callee}-service-port={{link:${link}.port}}`),
    ],
    // The OTel Go SDK reads its sampler from the environment (HotROD sets none in code).
    env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "{{samplingRatio}}" },
    // Neither customer, driver nor route has an HTTP endpoint answering 2xx without work: ready once it accepts.
    readyUrl:
      service === "frontend" ? "http://127.0.0.1:{{port:frontend}}/config" : `tcp://127.0.0.1:{{port:${service}}}`,
  };
}

export default defineConfig({
  name: "hotrod",
  services: {
    frontend: {
      role: "edge",
      protocol: "http",
      runtime: "go",
      url: "http://127.0.0.1:{{port:frontend}}",
      // The only process serving /metrics: its own server endpoints (derived from its server spans), no client metrics.
      metricsUrl: "http://127.0.0.1:{{port:frontend}}/metrics",
      contract: "contract.json",
      operations: ["/dispatch", "/config", "/"],
      // Any failure behind it is a 500 (its handler writes the error); a failed route call is a 200 (FINDINGS 6).
      errors: { grpc: { default: 500 }, http5xx: 500, noAnswer: 500 },
      launch: hotrod("frontend", { customer: "frontend-customer", driver: "frontend-driver", route: "frontend-route" }),
    },
    customer: { protocol: "http", runtime: "go", contract: "contract.json", launch: hotrod("customer") },
    driver: { protocol: "grpc", runtime: "go", contract: "contract.json", launch: hotrod("driver") },
    route: { protocol: "http", runtime: "go", contract: "contract.json", launch: hotrod("route") },
  },
  links: {
    "frontend-customer": { from: "frontend", to: "customer", protocol: "http", address: "127.0.0.1:{{port:customer}}" },
    // The frontend's gRPC client has a 1 s deadline; its HTTP clients have none.
    "frontend-driver": {
      from: "frontend",
      to: "driver",
      protocol: "grpc",
      address: "127.0.0.1:{{port:driver}}",
      timeoutMs: 1_000,
    },
    "frontend-route": { from: "frontend", to: "route", protocol: "http", address: "127.0.0.1:{{port:route}}" },
  },
  routes: {
    "GET /dispatch": {
      request: { method: "GET", path: "/dispatch?customer=123" },
      hops: [
        { from: "frontend", to: "customer", protocol: "http", method: "GET /customer" },
        // The simulated database and Redis are in-process, reported under tracers of their own.
        { from: "customer", to: "mysql", protocol: "sql", reportedBy: "mysql" },
        { from: "frontend", to: "driver", protocol: "grpc", method: "FindNearest" },
        // FindDriverIDs, then GetDriver per driver (10), every 5th failing and retried up to 3 times.
        {
          from: "driver",
          to: "redis",
          protocol: "redis",
          reportedBy: "redis-manual",
          count: { min: 11, max: 31 },
          retried: true,
        },
        // One route call per driver, 3 at a time.
        { from: "frontend", to: "route", protocol: "http", method: "GET /route", count: { min: 10, max: 10 } },
      ],
    },
  },
});
