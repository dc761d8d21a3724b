import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Topology } from "../../assertions/expectations";
import { loadModule } from "../../scenarios/lib/module-loader";
import { ConfigError } from "../errors";

/**
 * A mesh meshproof did not start, described for the judge (`npm run scenario -- --config FILE`): its services and
 * where to probe and scrape them, its routes and hops, where its traces and metrics are read, and which faults the
 * harness may inject without an admin API. Declared with defineConfig() in a .ts file, or as JSON.
 */
export interface MeshConfig {
  /** A name for the report. */
  name: string;
  services: Record<string, ExternalService>;
  /** Routes the driver sends and the hops each takes, in call order. Default: each scenario's own (the sample mesh's). */
  topology?: Topology;
  /** How to build each route's request. Default: the sample mesh's routes. */
  requests?: Record<string, { method: "GET" | "POST"; path: string; body?: unknown }>;
  /** Where traces are read: a Jaeger query API. */
  traces: { jaegerQueryUrl: string };
  /** The Prometheus that scrapes the services, and the job its targets are under. */
  prometheus: { url: string; job: string };
  /** Faults the harness may inject without an admin API: Toxiproxy links the services talk through. */
  faults?: { toxiproxy?: { url: string; links: Record<string, string> } };
  /**
   * How long finished spans may wait in a service's exporter (its batch delay) when no admin API can flush it.
   * Default 5000 (OpenTelemetry's default OTEL_BSP_SCHEDULE_DELAY).
   */
  exportIntervalMs?: number;
  /** Root sampling ratio the services run with. Default 1. */
  samplingRatio?: number;
}

export interface ExternalService {
  role?: "edge" | "internal";
  protocol: "http" | "grpc";
  /** Base URL of the edge service (where the driver sends requests). */
  url?: string;
  metricsUrl: string;
  healthzUrl: string;
  readyzUrl: string;
  /** "node" or "go" (the built-in contracts), or a contract file (JSON), relative to the config file. */
  contract: string;
  /** Declared route templates ("POST /api/checkout") or gRPC methods ("pkg.Service/Method"). */
  operations?: string[];
  /** Its structured log file (JSON lines with trace_id, span_id, request_id), if the harness may read it. */
  logFile?: string;
  /** Its process id, if the harness may signal it (process faults). */
  pid?: number;
  /** Its admin API (meshproof's admin protocol), if the harness may inject service faults. */
  admin?: { url: string; token: string };
}

/** Declares a mesh config with full typing; the loader validates it strictly. */
export function defineConfig(config: MeshConfig): MeshConfig {
  return config;
}

const loopbackUrl = z
  .string()
  .regex(/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/.*)?$/, "must be a loopback URL (http://127.0.0.1:PORT/...)");
const name = z.string().min(1);
const hop = z.strictObject({
  from: name,
  to: name,
  protocol: z.enum(["http", "grpc", "redis"]),
  method: name.optional(),
});

const SCHEMA = z
  .strictObject({
    name,
    services: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, "a service name is lower-case"),
        z.strictObject({
          role: z.enum(["edge", "internal"]).optional(),
          protocol: z.enum(["http", "grpc"]),
          url: loopbackUrl.optional(),
          metricsUrl: loopbackUrl,
          healthzUrl: loopbackUrl,
          readyzUrl: loopbackUrl,
          contract: name,
          operations: z.array(name).optional(),
          logFile: name.optional(),
          pid: z.number().int().positive().optional(),
          admin: z.strictObject({ url: loopbackUrl, token: z.string().min(16) }).optional(),
        }),
      )
      .refine((s) => Object.keys(s).length > 0, "must name at least one service"),
    topology: z.record(z.string().regex(/^[A-Z]+ \/\S*$/, 'a route is "METHOD /path"'), z.array(hop).min(1)).optional(),
    requests: z
      .record(
        name,
        z.strictObject({
          method: z.enum(["GET", "POST"]),
          path: z.string().startsWith("/"),
          body: z.unknown().optional(),
        }),
      )
      .optional(),
    traces: z.strictObject({ jaegerQueryUrl: loopbackUrl }),
    prometheus: z.strictObject({ url: loopbackUrl, job: name }),
    faults: z
      .strictObject({
        toxiproxy: z.strictObject({ url: loopbackUrl, links: z.record(name, name) }).optional(),
      })
      .optional(),
    exportIntervalMs: z.number().nonnegative().optional(),
    samplingRatio: z.number().min(0).max(1).optional(),
  })
  .superRefine((c, ctx) => {
    const edges = Object.entries(c.services).filter(([, s]) => s.role === "edge");
    if (edges.length !== 1)
      ctx.addIssue({
        code: "custom",
        path: ["services"],
        message: `exactly one service must have role "edge" (got ${edges.length})`,
      });
    for (const [service, s] of edges)
      if (!s.url)
        ctx.addIssue({ code: "custom", path: ["services", service, "url"], message: "the edge service needs its url" });
  });

// Compile-time check that the schema and the interface describe the same thing.
type Same<T extends U, U> = T;
export type MeshConfigSchemaMatches = Same<z.infer<typeof SCHEMA>, MeshConfig>;

/** Loads a mesh config from a .ts/.js module (its default export) or a .json file; errors name the file and key. */
export function loadMeshConfig(file: string): MeshConfig {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new ConfigError(`--config ${absolute} does not exist`);
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
  return parsed.data;
}
