import { z } from "zod";
import { DEFECT_NAMES, type DefectName } from "./defects";

/** Every environment variable a mesh service reads, in one table: name, type, default, meaning. */
export const SERVICE_ENV = {
  MESHPROOF_SERVICE_NAME: {
    type: "string",
    default: "(required)",
    meaning: "service.name of spans, logs and metrics.",
  },
  MESHPROOF_INSTANCE_ID: {
    type: "string",
    default: "<name>-<pid>",
    meaning: "service.instance.id resource attribute.",
  },
  MESHPROOF_PORT: { type: "port", default: "(required)", meaning: "Main listener (HTTP, or gRPC for gRPC services)." },
  MESHPROOF_OPS_PORT: {
    type: "port",
    default: "(required for gRPC services)",
    meaning: "HTTP listener for /metrics, /healthz, /readyz of a gRPC service.",
  },
  MESHPROOF_ADMIN_PORT: { type: "port", default: "(required)", meaning: "Admin API listener on 127.0.0.1." },
  MESHPROOF_ADMIN_TOKEN: {
    type: "string (>= 16 chars)",
    default: "(required)",
    meaning: "Bearer token of the admin API.",
  },
  MESHPROOF_LOG_FILE: { type: "path", default: "(required)", meaning: "Structured JSON log lines are appended here." },
  MESHPROOF_OTLP_URL: {
    type: "url",
    default: "(required unless OTEL_SDK_DISABLED)",
    meaning: "OTLP/HTTP base URL of the trace backend; spans go to <url>/v1/traces.",
  },
  MESHPROOF_SAMPLING_RATIO: { type: "number 0..1", default: "1", meaning: "Root sampling ratio (ParentBased)." },
  MESHPROOF_SEED: { type: "integer", default: "1", meaning: "Seed of the fault decisions (a run reproduces)." },
  MESHPROOF_DEFECTS: {
    type: "list",
    default: "(none)",
    meaning: `Known instrumentation bugs to switch on: ${DEFECT_NAMES.join(", ")}.`,
  },
  MESHPROOF_HEAP_LIMIT_BYTES: {
    type: "integer",
    default: "1073741824",
    meaning: "/healthz fails above this heap use.",
  },
  MESHPROOF_DRAIN_DELAY_MS: {
    type: "integer",
    default: "500",
    meaning: "On SIGTERM, how long /readyz answers 503 while the listeners still serve, before they close.",
  },
  MESHPROOF_REDIS_URL: {
    type: "url",
    default: "(orders: required)",
    meaning: "redis://host:port orders stores orders in.",
  },
  MESHPROOF_ORDERS_URL: { type: "url", default: "(gateway: required)", meaning: "Base URL of orders." },
  MESHPROOF_INVENTORY_ADDR: {
    type: "host:port",
    default: "(gateway, orders: required)",
    meaning: "gRPC address of inventory.",
  },
  MESHPROOF_PAYMENTS_ADDR: { type: "host:port", default: "(orders: required)", meaning: "gRPC address of payments." },
} as const;

export type ServiceEnvName = keyof typeof SERVICE_ENV;

/** Bad configuration; the message names the variable. */
export class ServiceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceConfigError";
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const loopbackAddr = z.string().regex(/^127\.0\.0\.1:\d{1,5}$/, "must be 127.0.0.1:<port>");
const loopbackUrl = (scheme: string) =>
  z.string().regex(new RegExp(`^${scheme}://127\\.0\\.0\\.1:\\d{1,5}(/.*)?$`), `must be ${scheme}://127.0.0.1:<port>`);

const FIELDS = {
  MESHPROOF_SERVICE_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a lower-case name"),
  MESHPROOF_INSTANCE_ID: z.string().min(1),
  MESHPROOF_PORT: port,
  MESHPROOF_OPS_PORT: port,
  MESHPROOF_ADMIN_PORT: port,
  MESHPROOF_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  MESHPROOF_LOG_FILE: z.string().min(1),
  MESHPROOF_OTLP_URL: z.string().regex(/^https?:\/\/127\.0\.0\.1:\d{1,5}\/?$/, "must be http://127.0.0.1:<port>"),
  MESHPROOF_SAMPLING_RATIO: z.coerce.number().min(0).max(1),
  MESHPROOF_SEED: z.coerce.number().int(),
  MESHPROOF_HEAP_LIMIT_BYTES: z.coerce.number().int().positive(),
  MESHPROOF_DRAIN_DELAY_MS: z.coerce.number().int().nonnegative(),
  MESHPROOF_REDIS_URL: loopbackUrl("redis"),
  MESHPROOF_ORDERS_URL: loopbackUrl("http"),
  MESHPROOF_INVENTORY_ADDR: loopbackAddr,
  MESHPROOF_PAYMENTS_ADDR: loopbackAddr,
} satisfies Partial<Record<ServiceEnvName, z.ZodType>>;

type FieldName = keyof typeof FIELDS;
type FieldValue<K extends FieldName> = z.infer<(typeof FIELDS)[K]>;

/** Reads env variables through one validating reader; the first bad one throws naming it. */
export class EnvReader {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  required<K extends FieldName>(name: K): FieldValue<K> {
    const raw = this.env[name];
    if (raw === undefined || raw === "")
      throw new ServiceConfigError(`${name} is required (${SERVICE_ENV[name].meaning})`);
    return this.parse(name, raw);
  }

  optional<K extends FieldName>(name: K, fallback: FieldValue<K>): FieldValue<K> {
    const raw = this.env[name];
    return raw === undefined || raw === "" ? fallback : this.parse(name, raw);
  }

  defects(): ReadonlySet<DefectName> {
    const raw = this.env.MESHPROOF_DEFECTS ?? "";
    const names = raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const name of names) {
      if (!(DEFECT_NAMES as readonly string[]).includes(name)) {
        throw new ServiceConfigError(`MESHPROOF_DEFECTS: unknown defect "${name}"; valid: ${DEFECT_NAMES.join(", ")}`);
      }
    }
    return new Set(names as DefectName[]);
  }

  private parse<K extends FieldName>(name: K, raw: string): FieldValue<K> {
    const result = FIELDS[name].safeParse(raw);
    if (!result.success) {
      throw new ServiceConfigError(
        `${name}="${raw}" is invalid: ${result.error.issues.map((i) => i.message).join("; ")}`,
      );
    }
    return result.data as FieldValue<K>;
  }
}

/** Configuration every service shares. */
export interface CommonConfig {
  serviceName: string;
  instanceId: string;
  port: number;
  adminPort: number;
  adminToken: string;
  logFile: string;
  seed: number;
  defects: ReadonlySet<DefectName>;
  heapLimitBytes: number;
  drainDelayMs: number;
}

export function readCommonConfig(reader: EnvReader): CommonConfig {
  const serviceName = reader.required("MESHPROOF_SERVICE_NAME");
  return {
    serviceName,
    instanceId: reader.optional("MESHPROOF_INSTANCE_ID", `${serviceName}-${process.pid}`),
    port: reader.required("MESHPROOF_PORT"),
    adminPort: reader.required("MESHPROOF_ADMIN_PORT"),
    adminToken: reader.required("MESHPROOF_ADMIN_TOKEN"),
    logFile: reader.required("MESHPROOF_LOG_FILE"),
    seed: reader.optional("MESHPROOF_SEED", 1),
    defects: reader.defects(),
    heapLimitBytes: reader.optional("MESHPROOF_HEAP_LIMIT_BYTES", 1024 * 1024 * 1024),
    drainDelayMs: reader.optional("MESHPROOF_DRAIN_DELAY_MS", 500),
  };
}

/** Runs read(); on a config error prints the message (naming the variable) and exits with code 2. */
export function loadConfigOrExit<T>(service: string, read: (reader: EnvReader) => T): T {
  try {
    return read(new EnvReader());
  } catch (error) {
    if (error instanceof ServiceConfigError) {
      process.stderr.write(`meshproof ${service}: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
