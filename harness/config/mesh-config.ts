import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { HOP_PROTOCOLS, type Hop } from "../../assertions/expectations";
import { hopSchema } from "../../scenarios/lib/schema";
import { loadModule } from "../../scenarios/lib/module-loader";
import type { ErrorTable, ProbeModel } from "../../scenarios/lib/topology";
import { ConfigError } from "../errors";

/**
 * A mesh meshproof did not write (`npm run scenario -- --config FILE`): its services, the links between them, the
 * routes the driver sends with the hops each takes, and what it promises (error table, probe model). Services either
 * run already (their URLs, and a pid or container for process faults) or are launched by meshproof (`launch`), which
 * then starts Jaeger, Prometheus and Toxiproxy itself, puts a proxy on every link and fills in the placeholders.
 * Declared with defineConfig() in a .ts file, or as JSON.
 *
 * Placeholders in a launched service's command, env, URLs and link addresses: `{{port:NAME}}` a free port chosen
 * once per run, `{{link:NAME}}` the host:port its callers must call for link NAME (its proxy), `{{link:NAME.port}}`,
 * `{{otlp:http}}` and `{{otlp:grpc}}` the OTLP endpoints of the Jaeger meshproof started, `{{samplingRatio}}`,
 * `{{tool:NAME}}` a binary meshproof provisions ("redis", "hotrod"), `{{node}}` this Node, `{{run}}` the run's folder.
 */
export interface MeshConfig {
  /** A name for the report; the mesh's capacity is stored under it. */
  name: string;
  services: Record<string, ServiceConfig>;
  /** Links faults may act on, by name ("frontend-driver"). */
  links?: Record<string, LinkConfig>;
  /** The routes the driver sends, by name ("GET /dispatch"): the request and the hops it takes, in call order. */
  routes: Record<string, RouteConfig>;
  /**
   * Where traces are read: a Jaeger query API, or a Zipkin server's v2 API (its base URL). Default: the Jaeger
   * meshproof starts (launched meshes only).
   */
  traces?: { jaegerQueryUrl: string } | { zipkinUrl: string };
  /** The Prometheus that scrapes the services, and its job. Default: the one meshproof starts (launched meshes only). */
  prometheus?: { url: string; job: string };
  /** A Toxiproxy the mesh's links already go through (a mesh you started); meshproof's own when it launches the mesh. */
  toxiproxy?: { url: string };
  /** How long finished spans may wait in a service's exporter when nothing can flush it. Default 5000. */
  exportIntervalMs?: number;
  /** Root sampling ratio the services run with. Default 1. */
  samplingRatio?: number;
}

export interface ServiceConfig {
  /** edge receives the driver's requests; datastore is called but not instrumented. Default "internal". */
  role?: "edge" | "internal" | "datastore";
  protocol: Hop["protocol"];
  /** Base URL of the edge service (where the driver sends requests). */
  url?: string;
  /** Its Prometheus /metrics; absent: it exposes none. `{ sharedWith }`: served by another service's process. */
  metricsUrl?: string | { sharedWith: string };
  /** Its liveness and readiness probes (JSON bodies by its contract), if it has them. */
  healthzUrl?: string;
  readyzUrl?: string;
  /** A built-in contract ("otel", "go", "node") or a contract file relative to the config. Default "otel". */
  contract?: string;
  /** Declared route templates or gRPC methods (label values must be among them). */
  operations?: string[];
  /** Its structured log file (JSON lines with trace and span ids), if the harness may read it. */
  logFile?: string;
  /** The runtime it runs on, where a fault depends on it ("node": an event loop that can stall). */
  runtime?: string;
  /** meshproof starts it (and restarts it after kill and restart faults). */
  launch?: LaunchConfig;
  /** Its process id (a mesh you started): process faults by signal. */
  pid?: number;
  /** Its container (a mesh you started): process faults through the Docker engine. */
  container?: string;
  /** Its admin API (meshproof's admin protocol): faults inside the service. */
  admin?: { url: string; token: string };
  /** How it answers a failed downstream call; absent: not promised. */
  errors?: ErrorTable;
  /** What its probes check; absent: not promised. */
  probes?: ProbeModel;
}

export interface LaunchConfig {
  /** The program and its arguments. */
  command: string[];
  /** Working directory, relative to the config file. Default: the config's folder. */
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Ready when this URL answers 2xx, or for tcp://127.0.0.1:PORT when the port accepts a connection. Default: its
   * readyzUrl, else its url, else its metricsUrl.
   */
  readyUrl?: string;
  /** How long it may take to answer ready. Default 30000. */
  readyTimeoutMs?: number;
}

export interface LinkConfig {
  from: string;
  to: string;
  protocol: Hop["protocol"];
  /** Where the callee listens (host:port); the link's proxy forwards there. */
  address: string;
  /** The proxy's name in the mesh's own Toxiproxy (a mesh you started; its callers already call the proxy). */
  proxy?: string;
  /**
   * Where meshproof's proxy for the link listens, for a mesh you start (point the caller there; `npm run mesh:plan`
   * prints each). Default: a port derived from the config's and the link's names.
   */
  listen?: string;
  /** The caller's deadline or timeout on calls over the link, where it has one. */
  timeoutMs?: number;
}

export interface RouteConfig {
  /** Headers are sent as given, besides the driver's own (traceparent, x-request-id, content-type). */
  request: { method: "GET" | "POST"; path: string; body?: unknown; headers?: Record<string, string> };
  hops: Hop[];
  /** Share in the load mix. Default 1. */
  weight?: number;
}

/** Declares a mesh config with full typing; the loader validates it strictly. */
export function defineConfig(config: MeshConfig): MeshConfig {
  return config;
}

/** Headers the load driver sets on every request: a route's `request.headers` may not name them. */
const DRIVER_HEADERS = ["traceparent", "x-request-id", "content-type", "content-length"];

const loopbackUrl = z
  .string()
  .regex(
    /^https?:\/\/(127\.0\.0\.1|localhost|\{\{[^}]+\}\})(:(\d+|\{\{[^}]+\}\}))?(\/.*)?$/,
    "must be a loopback URL (http://127.0.0.1:PORT/...)",
  );
const loopbackTcp = z
  .string()
  .regex(/^tcp:\/\/(127\.0\.0\.1|localhost):(\d+|\{\{[^}]+\}\})$/, "must be a loopback tcp://127.0.0.1:PORT");
const loopbackAddress = z
  .string()
  .regex(/^(127\.0\.0\.1|localhost):(\d+|\{\{[^}]+\}\})$/, "must be a loopback address (127.0.0.1:PORT)");
const name = z.string().min(1);
const statusTable = z.record(z.string(), z.number().int().min(100).max(599));
const probeModel = z.strictObject({
  readiness: z.array(z.strictObject({ check: name, on: name, liveness: z.boolean().optional() })).optional(),
  liveness: z
    .strictObject({
      heap: z.strictObject({ check: name, limitBytes: z.number().positive() }).optional(),
      eventLoop: z.strictObject({ check: name, maxLagMs: z.number().positive() }).optional(),
    })
    .optional(),
  drain: z.strictObject({ check: name }).optional(),
});

const SCHEMA = z
  .strictObject({
    name,
    services: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, "a service name is lower-case"),
        z.strictObject({
          role: z.enum(["edge", "internal", "datastore"]).optional(),
          protocol: z.enum(HOP_PROTOCOLS),
          url: loopbackUrl.optional(),
          metricsUrl: z.union([loopbackUrl, z.strictObject({ sharedWith: name })]).optional(),
          healthzUrl: loopbackUrl.optional(),
          readyzUrl: loopbackUrl.optional(),
          contract: name.optional(),
          operations: z.array(name).optional(),
          logFile: name.optional(),
          runtime: name.optional(),
          launch: z
            .strictObject({
              command: z.array(z.string()).min(1),
              cwd: name.optional(),
              env: z.record(name, z.string()).optional(),
              readyUrl: z.union([loopbackUrl, loopbackTcp]).optional(),
              readyTimeoutMs: z.number().positive().optional(),
            })
            .optional(),
          pid: z.number().int().positive().optional(),
          container: name.optional(),
          admin: z.strictObject({ url: loopbackUrl, token: z.string().min(16) }).optional(),
          errors: z
            .strictObject({
              grpc: statusTable.optional(),
              datastore: z.number().int().optional(),
              http5xx: z.number().int().optional(),
              noAnswer: z.number().int().optional(),
            })
            .optional(),
          probes: probeModel.optional(),
        }),
      )
      .refine((s) => Object.keys(s).length > 0, "must name at least one service"),
    links: z
      .record(
        name,
        z.strictObject({
          from: name,
          to: name,
          protocol: z.enum(HOP_PROTOCOLS),
          address: loopbackAddress,
          proxy: name.optional(),
          listen: loopbackAddress.optional(),
          timeoutMs: z.number().positive().optional(),
        }),
      )
      .optional(),
    routes: z
      .record(
        z.string().regex(/^[A-Z]+ \/\S*$/, 'a route is "METHOD /path"'),
        z.strictObject({
          request: z.strictObject({
            method: z.enum(["GET", "POST"]),
            path: z.string().startsWith("/"),
            body: z.unknown().optional(),
            headers: z
              .record(
                z.string(),
                z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, "a header value holds no control character"),
              )
              .optional(),
          }),
          hops: z.array(hopSchema).min(1),
          weight: z.number().positive().optional(),
        }),
      )
      .refine((r) => Object.keys(r).length > 0, "must name at least one route"),
    traces: z
      .union([z.strictObject({ jaegerQueryUrl: loopbackUrl }), z.strictObject({ zipkinUrl: loopbackUrl })])
      .optional(),
    prometheus: z.strictObject({ url: loopbackUrl, job: name }).optional(),
    toxiproxy: z.strictObject({ url: loopbackUrl }).optional(),
    exportIntervalMs: z.number().nonnegative().optional(),
    samplingRatio: z.number().min(0).max(1).optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (p: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path: p, message });
    const services = Object.keys(c.services);
    const edges = Object.entries(c.services).filter(([, s]) => s.role === "edge");
    if (edges.length !== 1) issue(["services"], `exactly one service must have role "edge" (got ${edges.length})`);
    for (const [service, s] of edges) if (!s.url) issue(["services", service, "url"], "the edge service needs its url");
    const launched = Object.values(c.services).some((s) => s.launch);
    if (!launched && !c.traces) issue(["traces"], "is required when meshproof does not launch the services");
    if (!launched && !c.prometheus) issue(["prometheus"], "is required when meshproof does not launch the services");
    for (const [link, l] of Object.entries(c.links ?? {}))
      for (const end of ["from", "to"] as const)
        if (!services.includes(l[end])) issue(["links", link, end], `must be a service (${services.join(", ")})`);
    for (const [route, r] of Object.entries(c.routes)) {
      for (const header of Object.keys(r.request.headers ?? {}))
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
          issue(["routes", route, "request", "headers", header], "a header name is an HTTP token");
        else if (DRIVER_HEADERS.includes(header.toLowerCase()))
          issue(["routes", route, "request", "headers", header], `is set by the driver (${DRIVER_HEADERS.join(", ")})`);
      r.hops.forEach((h, i) => {
        // A datastore reached in-process (its spans reported under a name of their own) is no service of the mesh.
        const inProcess = h.reportedBy !== undefined && h.protocol !== "http" && h.protocol !== "grpc";
        for (const end of inProcess ? (["from"] as const) : (["from", "to"] as const))
          if (!services.includes(h[end]))
            issue(["routes", route, "hops", i, end], `must be a service (${services.join(", ")})`);
      });
    }
    for (const [service, s] of Object.entries(c.services)) {
      const shared = typeof s.metricsUrl === "object" ? s.metricsUrl.sharedWith : undefined;
      if (shared !== undefined && typeof c.services[shared]?.metricsUrl !== "string")
        issue(["services", service, "metricsUrl", "sharedWith"], "must name a service with its own metricsUrl");
    }
  });

// Compile-time check that the schema and the interface describe the same thing.
type Same<T extends U, U> = T;
export type MeshConfigSchemaMatches = Same<z.infer<typeof SCHEMA>, MeshConfig>;

/** Loads a mesh config from a .ts/.js module (its default export) or a .json file; errors name the file and key. */
export function loadMeshConfig(file: string): MeshConfig {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute))
    throw new ConfigError(
      `--config ${absolute} does not exist: give the path of a mesh config (defineConfig() .ts/.js, or JSON; "npm run init" writes one)`,
    );
  let value: unknown;
  try {
    value = absolute.endsWith(".json")
      ? JSON.parse(fs.readFileSync(absolute, "utf8"))
      : (loadModule(absolute) as { default?: unknown }).default;
  } catch (error) {
    throw new ConfigError(`${absolute}: cannot be loaded: ${(error as Error).message}`);
  }
  const parsed = SCHEMA.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(
      `${absolute}: ${parsed.error.issues
        .map((i) =>
          i.code === "unrecognized_keys"
            ? i.keys.map((k) => `${[...i.path, k].join(".")} is not a known key`).join("; ")
            : `${i.path.join(".") || "(root)"}: ${i.message}`,
        )
        .join("; ")}`,
    );
  return parsed.data as MeshConfig;
}
