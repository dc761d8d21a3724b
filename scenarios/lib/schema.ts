import { HOP_PROTOCOLS } from "../../assertions/expectations";
import { z } from "zod";
import { ALL_FAMILIES } from "../../assertions/evidence";
import type { Expectations } from "../../assertions/expectations";
import { FAULTS, type FaultSpec } from "../../assertions/faults";
import { MESH_LINKS as SAMPLE_LINKS, MESH_SERVICES as SAMPLE_SERVICES } from "./sample-topology";
import type { Scenario } from "./scenario-model";

const positive = () => z.number().positive();

/**
 * Upper bounds, each with its reason (the message says it): past one a run would crash or stall after the mesh is up
 * (a RangeError planning 1e9 requests/s), or a timer would overflow (Node's setTimeout takes at most 2^31-1 ms).
 */
export const BOUNDS = {
  ratePerSec: {
    max: 10_000,
    why: "one machine's load driver sends at most a few thousand requests/s and holds every request's record",
  },
  loadMs: { max: 3_600_000, why: "a scenario's load lasts at most an hour (every request's record is held)" },
  delayMs: {
    max: 60_000,
    why: "a delay, deadline or timeout past a minute outlasts every call's deadline: model an outage with link-down",
  },
  kbPerSec: { max: 1_000_000, why: "a loopback link is not throttled above 1 GB/s" },
} as const;
const rate = () => z.number().max(BOUNDS.ratePerSec.max, BOUNDS.ratePerSec.why);
const loadMs = () => z.number().max(BOUNDS.loadMs.max, BOUNDS.loadMs.why);
const nonNegative = () => z.number().nonnegative();
const name = () => z.string().min(1);
const families = z.enum(ALL_FAMILIES);
const spanKind = z.enum(["server", "client", "internal", "producer", "consumer"]);
/** A hop of a route (assertions' Hop), as scenario files and mesh configs declare it. */
export const hopSchema = z.strictObject({
  from: name(),
  to: name(),
  protocol: z.enum(HOP_PROTOCOLS),
  method: name().optional(),
  count: z
    .strictObject({ min: z.number().int().positive(), max: z.number().int().positive() })
    .refine((c) => c.min <= c.max, "min must be at most max")
    .optional(),
  reportedBy: name().optional(),
  retried: z.boolean().optional(),
});
const share = () => z.number().min(0).max(1);

const expectations = z.strictObject({
  families: z.array(families).min(1),
  topology: z.record(z.string().regex(/^[A-Z]+ \/\S*$/, 'a route is "METHOD /path"'), z.array(hopSchema).min(1)),
  traces: z.strictObject({ requestIdSpanKinds: z.array(spanKind).optional() }).optional(),
  runtime: z
    .strictObject({
      maxEventLoopLagSeconds: positive().optional(),
      cpuCores: positive().optional(),
      memoryBytes: positive().optional(),
    })
    .optional(),
  hygiene: z
    .strictObject({
      maxLabelValues: z.number().int().positive().optional(),
      forbiddenLabels: z.array(name()).optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      excludeRoutes: z.array(name()).optional(),
      errorSurfaces: z
        .array(
          z.strictObject({
            fault: name(),
            route: z.string().min(1).optional(),
            exact: z.boolean().optional(),
            layers: z
              .array(
                z.strictObject({
                  service: name(),
                  metric: z.enum(["httpServer", "httpClient", "grpcServer", "grpcClient"]),
                  code: z.union([name(), z.array(name()).min(1)]),
                  peer: name().optional(),
                  method: name().optional(),
                  route: z.string().min(1).optional(),
                }),
              )
              .min(1),
          }),
        )
        .optional(),
      confidence: z.number().gt(0).lt(1).optional(),
      slowShareInside: share().optional(),
      slowShareOutside: share().optional(),
    })
    .optional(),
  probes: z
    .strictObject({
      readinessFlips: z
        .array(
          z.strictObject({
            fault: name(),
            service: name(),
            probe: z.enum(["readyz", "healthz"]).optional(),
            check: name().optional(),
            answer: z.enum(["503", "timeout", "refused"]).optional(),
            intermittent: z.strictObject({ atLeast: positive() }).optional(),
          }),
        )
        .optional(),
      tolerate: z.array(name()).optional(),
      checkTimeoutMs: positive().optional(),
      pollIntervalMs: positive().optional(),
      slackMs: nonNegative().optional(),
    })
    .optional(),
});

const timing = { target: name(), atMs: nonNegative(), durationMs: positive() };
/** A fault: its timing and target, and the params its kind's descriptor declares. */
const fault = z.discriminatedUnion(
  "kind",
  Object.values(FAULTS).map((d) =>
    z.strictObject({ kind: z.literal(d.kind), ...timing, params: d.params }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<FaultSpec>;

/** The names a scenario's fault targets must come from: the mesh's services and links. */
export interface MeshNames {
  services: readonly string[];
  links: readonly string[];
  /**
   * Each service's operations a method fault may name ("inventory.Reserve"): its hops' methods (and the routes, for
   * an edge). A service absent here (its hops declare no method) takes any operation.
   */
  operations?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The strict scenario schema for a mesh: unknown keys anywhere are rejected; cross-field rules (and fault targets
 * against the mesh's names) checked after shapes.
 */
export function scenarioSchemaFor(names: MeshNames) {
  const { services, links, operations = {} } = names;
  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "must be kebab-case"),
      description: name(),
      load: z.strictObject({
        driver: z.enum(["inline", "k6"]).optional(),
        rateUnit: z.enum(["req/s", "capacity"]).optional(),
        ratePerSec: rate().positive(),
        stages: z
          .array(z.strictObject({ durationMs: loadMs().positive(), targetRatePerSec: rate().nonnegative() }))
          .min(1)
          .optional(),
        traceparent: z
          .strictObject({ sampled: nonNegative(), unsampled: nonNegative(), none: nonNegative() })
          .optional(),
        durationMs: loadMs().positive(),
        warmupMs: loadMs().nonnegative(),
        routes: z.array(z.strictObject({ route: name(), weight: positive() })).min(1),
        thresholds: z.record(name(), z.array(name()).min(1)).optional(),
        timeoutMs: z.number().positive().max(BOUNDS.delayMs.max, BOUNDS.delayMs.why).optional(),
        minRequests: z.number().int().positive().optional(),
        maxShareOfCapacity: z.number().gt(0).max(1).optional(),
      }),
      faults: z.array(fault),
      expectations,
      mesh: z.strictObject({ samplingRatio: z.number().gt(0).max(1).optional() }).optional(),
      isolation: z.enum(["alone", "shared"]).optional(),
      // Set by the loader (a loaded scenario validates again as it is); whatever a file says is replaced.
      file: z.string().optional(),
    })
    .superRefine((s, ctx) => {
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
      const loadEndMs = s.load.warmupMs + s.load.durationMs;
      if (s.load.stages) {
        const staged = s.load.stages.reduce((sum, st) => sum + st.durationMs, 0);
        if (staged !== loadEndMs)
          issue(["load", "stages"], `durations must sum to warmupMs + durationMs (${loadEndMs}), got ${staged}`);
      }
      if (s.load.minRequests !== undefined && (s.load.rateUnit !== "capacity" || !s.load.stages))
        issue(
          ["load", "minRequests"],
          'stretches the last stage of a load in capacity shares: set load.rateUnit "capacity" and stages',
        );
      if (s.load.maxShareOfCapacity !== undefined && s.load.rateUnit === "capacity")
        issue(["load", "maxShareOfCapacity"], "bounds a rate in requests/s: a capacity share is bounded already");
      if (s.load.thresholds && s.load.driver !== "k6")
        issue(["load", "thresholds"], 'are k6 thresholds: set load.driver to "k6"');
      if (
        s.load.rateUnit === "capacity" &&
        [s.load.ratePerSec, ...(s.load.stages ?? []).map((st) => st.targetRatePerSec)].some((r) => r > 3)
      )
        issue(
          ["load", "rateUnit"],
          "capacity rates are shares of the measured capacity (0.7 is 70%): none may exceed 3",
        );
      s.load.routes.forEach((r, i) => {
        if (!(r.route in s.expectations.topology))
          issue(
            ["load", "routes", i, "route"],
            `must be a route of expectations.topology (${Object.keys(s.expectations.topology).join(", ")})`,
          );
      });
      s.faults.forEach((f, i) => {
        // Every kind's delays and timeouts (params ms or ending in Ms) and bandwidths have one bound each.
        for (const [key, value] of Object.entries(f.params as Record<string, unknown>)) {
          const bound = /(^ms|Ms)$/.test(key) ? BOUNDS.delayMs : key === "kbPerSec" ? BOUNDS.kbPerSec : undefined;
          if (bound && typeof value === "number" && value > bound.max)
            issue(["faults", i, "params", key], `must be <= ${bound.max} (got ${value}): ${bound.why}`);
        }
        if (f.atMs < s.load.warmupMs) issue(["faults", i, "atMs"], `must be >= load.warmupMs (${s.load.warmupMs})`);
        if (f.atMs + f.durationMs > loadEndMs)
          issue(
            ["faults", i, "durationMs"],
            `must end with the load (warmupMs + durationMs = ${loadEndMs}): atMs + durationMs = ${f.atMs + f.durationMs}`,
          );
        const site = FAULTS[f.kind].site;
        if (site === "link") {
          if (!links.includes(f.target)) issue(["faults", i, "target"], `must be a mesh link (${links.join(", ")})`);
        } else if (site !== "method") {
          if (!services.includes(f.target))
            issue(
              ["faults", i, "target"],
              `must be a mesh service (${services.join(", ")}): a ${f.kind} fault acts on the whole service`,
            );
        } else if (!services.includes(f.target.split(".")[0] ?? ""))
          issue(
            ["faults", i, "target"],
            `must be "<service>" or "<service>.<Method>" with a mesh service (${services.join(", ")})`,
          );
        else {
          const [service = "", ...rest] = f.target.split(".");
          const known = Object.hasOwn(operations, service) ? operations[service]! : [];
          if (rest.length > 0 && known.length > 0 && !known.includes(rest.join(".")))
            issue(
              ["faults", i, "target"],
              `names no operation of ${service}: its operations are ${known.join(", ")} (a fault on another one would never take)`,
            );
        }
      });
      // One fault per target at a time: the first to revert would end the other early while the journal says it lasts.
      s.faults.forEach((b, j) => {
        s.faults.slice(0, j).forEach((a, i) => {
          if (a.target === b.target && a.atMs < b.atMs + b.durationMs && b.atMs < a.atMs + a.durationMs)
            issue(
              ["faults", j, "atMs"],
              `overlaps faults[${i}] on ${a.target} (faults[${i}] ${a.atMs}..${a.atMs + a.durationMs} ms, faults[${j}] ${b.atMs}..${b.atMs + b.durationMs} ms): a target takes one fault at a time; make them follow each other or merge them`,
            );
        });
      });
    });
}

/** The schema for the sample mesh's names. */
export const scenarioSchema = scenarioSchemaFor({ services: SAMPLE_SERVICES, links: SAMPLE_LINKS });

// Compile-time check that the schema and the TypeScript model describe the same thing.
type Assignable<T extends U, U> = T;
export type SchemaMatchesScenario = Assignable<z.infer<typeof scenarioSchema>, Scenario>;
export type SchemaMatchesExpectations = Assignable<z.infer<typeof expectations>, Expectations>;
