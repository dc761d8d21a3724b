import { z } from "zod";
import { GRPC_CODE_NAMES } from "../../../assertions/grpc-codes";
import { LOOPBACK } from "../../util/ports";
import { compileMatch } from "./call-match";

/** "127.0.0.1:PORT": the only form of address any listener of the L7 proxy binds. */
export const LOOPBACK_ADDRESS = /^127\.0\.0\.1:\d{1,5}$/;

/** What a proxy speaks: HTTP/1.1, or gRPC over h2c (HTTP/2 cleartext, prior knowledge). */
export type Protocol = "http" | "grpc";

/** gRPC status codes by number, as their canonical names. */
export const GRPC_CODES = GRPC_CODE_NAMES;

/** A canonical gRPC code name other than OK (what an injected error may answer). */
export type GrpcErrorCode = Exclude<(typeof GRPC_CODES)[number], "OK">;

/** The HTTP status an injected error answers when the fault names none. */
export const DEFAULT_HTTP_STATUS = 503;
/** The gRPC code an injected error answers when the fault names none. */
export const DEFAULT_GRPC_CODE: GrpcErrorCode = "UNAVAILABLE";

const loopbackAddress = z.string().regex(LOOPBACK_ADDRESS, 'must be "127.0.0.1:PORT"');

/** POST /proxies. */
export const ProxySpecSchema = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, "must be 1-64 of [A-Za-z0-9_.-]"),
  upstream: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be "HOST:PORT"'),
  protocol: z.enum(["http", "grpc"]),
  listen: loopbackAddress.default(`${LOOPBACK}:0`),
});
/** POST /proxies, as sent. */
export type ProxySpec = z.input<typeof ProxySpecSchema>;

/** A proxy as the control API describes it. */
export interface ProxyInfo {
  name: string;
  /** 127.0.0.1:PORT the proxy listens on. */
  listen: string;
  upstream: string;
  protocol: Protocol;
  /** Calls the proxy itself failed because the upstream could not be reached or was lost (never injected ones). */
  upstreamErrors: number;
}

const common = {
  id: z.string().regex(/^[\w.-]{1,64}$/, "must be 1-64 of [A-Za-z0-9_.-]"),
  match: z.string().min(1).optional(),
  rate: z.number().min(0).max(1),
  seed: z.number().int(),
};

const FaultSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    ...common,
    kind: z.literal("error"),
    httpStatus: z.number().int().min(400).max(599).optional(),
    grpcCode: z.enum(GRPC_CODES.filter((c) => c !== "OK") as [GrpcErrorCode, ...GrpcErrorCode[]]).optional(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal("latency"),
    ms: z.number().min(0).max(600_000),
    jitterMs: z.number().min(0).max(600_000).default(0),
  }),
]);

/** POST /proxies/:name/faults, as sent. */
export type FaultSpec = z.input<typeof FaultSchema>;
/** A fault as stored: defaults filled in (the error's status or code, the latency's jitter). */
export type Fault = z.output<typeof FaultSchema>;
/** GET /proxies/:name/faults: each fault with how many calls it matched and how many it failed or delayed. */
export type FaultView = Fault & { matched: number; injected: number };

/**
 * The fault schema for a proxy of `protocol`: the match must be valid for it, and an error fault may carry only its
 * protocol's answer (httpStatus for http, grpcCode for grpc), which defaults to 503 / UNAVAILABLE.
 */
export function faultSchemaFor(protocol: Protocol) {
  return FaultSchema.superRefine((fault, ctx) => {
    if (fault.match !== undefined) {
      const problem = compileMatch(protocol, fault.match).problem;
      if (problem) ctx.addIssue({ code: "custom", path: ["match"], message: problem });
    }
    if (fault.kind !== "error") return;
    const foreign = protocol === "http" ? "grpcCode" : "httpStatus";
    if (fault[foreign] !== undefined)
      ctx.addIssue({ code: "custom", path: [foreign], message: `not allowed on a ${protocol} proxy` });
  }).transform((fault): Fault => {
    if (fault.kind !== "error") return fault;
    return protocol === "http"
      ? { ...fault, httpStatus: fault.httpStatus ?? DEFAULT_HTTP_STATUS }
      : { ...fault, grpcCode: fault.grpcCode ?? DEFAULT_GRPC_CODE };
  });
}

/** A proxy name or fault id that is already taken (the control API answers 409). */
export class ConflictError extends Error {}

/** "key: message; key: message" for a 400 answer that names each bad key. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
}
