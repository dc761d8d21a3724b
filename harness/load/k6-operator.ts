import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../errors";
import { k6ScriptConfig, k6ScriptEnv, k6ScriptPath, type K6LoadOptions } from "./k6-driver";
import { K6OutputParser, type K6RequestRecord } from "./k6-output";
import { planRequests, type LoadPlan } from "./load-plan";
import type { RouteCatalog } from "./routes";

/** Where k6-operator mounts a script's ConfigMap in each runner pod. */
const CONFIGMAP_MOUNT = "/test";
/** Where the runners write their per-request output (a shared volume). */
const RESULTS_MOUNT = "/results";
/** Kubernetes refuses a ConfigMap over 1 MiB. */
const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;

export interface K6OperatorOptions extends K6LoadOptions {
  /** How many k6 runner pods split the load (k6 execution segments). */
  parallelism: number;
  /** The edge as the runners reach it, e.g. http://gateway.meshproof.svc:8080. */
  baseUrl: string;
  /** Name of the TestRun; the ConfigMap and the results claim are named after it. Default "meshproof-load". */
  name?: string;
  namespace?: string;
  /** The runner image; k6 >= 1.0 runs the TypeScript script as is. Default "grafana/k6:1.8.1" (the pinned k6). */
  image?: string;
  /** Size of the results volume. Default "1Gi". */
  resultsStorage?: string;
}

/** A Kubernetes object as plain JSON. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

/** A Kubernetes List: applied in order (the ConfigMap and the claim before the TestRun that needs them). */
export interface ManifestList {
  apiVersion: "v1";
  kind: "List";
  items: Manifest[];
}

/**
 * The manifests that run a plan on k6-operator, as a Kubernetes List (JSON, hence valid YAML; `kubectl apply -f`
 * takes it): a ConfigMap with the typed script (TypeScript as is) and its data files, a ReadWriteMany claim for
 * the results, and a TestRun (k6.io/v1alpha1) with `parallelism` runners. The runners get the same environment the
 * local driver passes, with the ConfigMap's paths, and write `--out json` to a file of their own on the claim:
 * k6-output-<pod>.json. Execution segments split the arrival rate; iteration i is still planned request i, once.
 */
export function k6OperatorManifests(plan: LoadPlan, routes: RouteCatalog, options: K6OperatorOptions): ManifestList {
  if (!Number.isInteger(options.parallelism) || options.parallelism < 1) {
    throw new ConfigError(`--parallelism must be an integer >= 1 (got ${options.parallelism})`);
  }
  const name = options.name ?? "meshproof-load";
  const metadata = (suffix: string) => ({
    name: `${name}${suffix}`,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels: { "app.kubernetes.io/part-of": "meshproof" },
  });
  const planned = planRequests(plan, routes);
  const data = {
    "mesh-load.ts": fs.readFileSync(k6ScriptPath(), "utf8"),
    "k6-config.json": `${JSON.stringify(k6ScriptConfig(plan, options), null, 2)}\n`,
    "k6-requests.json": JSON.stringify(planned),
  };
  const bytes = Object.values(data).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  if (bytes > CONFIGMAP_LIMIT_BYTES) {
    throw new ConfigError(
      `the plan's ${planned.length} requests make a ${bytes}-byte ConfigMap, over Kubernetes' 1 MiB; ` +
        `shorten the load (rate x duration) or split it over several TestRuns`,
    );
  }
  const env = k6ScriptEnv({
    baseUrl: options.baseUrl,
    config: `${CONFIGMAP_MOUNT}/k6-config.json`,
    requests: `${CONFIGMAP_MOUNT}/k6-requests.json`,
  });
  const claim = `${name}-results`;
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "ConfigMap", metadata: metadata("-script"), data },
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: metadata("-results"),
        spec: {
          accessModes: ["ReadWriteMany"],
          resources: { requests: { storage: options.resultsStorage ?? "1Gi" } },
        },
      },
      {
        apiVersion: "k6.io/v1alpha1",
        kind: "TestRun",
        metadata: metadata(""),
        spec: {
          parallelism: options.parallelism,
          script: { configMap: { name: `${name}-script`, file: "mesh-load.ts" } },
          // Kubernetes expands $(MESHPROOF_RUNNER) (the pod name, from env) in the runner's command line.
          arguments: [
            "--no-usage-report",
            `--out json=${RESULTS_MOUNT}/k6-output-$(MESHPROOF_RUNNER).json`,
            `--summary-export=${RESULTS_MOUNT}/k6-summary-$(MESHPROOF_RUNNER).json`,
          ].join(" "),
          runner: {
            image: options.image ?? "grafana/k6:1.8.1",
            env: [
              ...Object.entries(env).map(([envName, value]) => ({ name: envName, value })),
              { name: "MESHPROOF_RUNNER", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
            volumes: [{ name: "results", persistentVolumeClaim: { claimName: claim } }],
            volumeMounts: [{ name: "results", mountPath: RESULTS_MOUNT }],
          },
        },
      },
    ] as Manifest[],
  };
}

/** One runner's `--out json` output: a name for messages and its lines. */
export interface RunnerOutput {
  name: string;
  lines: Iterable<string>;
}

/**
 * Merges several runners' k6 JSON outputs into one request log, sorted by start. A request id (or an iteration,
 * i.e. a planned request) in two outputs is an error naming both: the same file merged twice, or runners whose
 * execution segments overlap.
 */
export function mergeK6Outputs(outputs: readonly RunnerOutput[]): K6RequestRecord[] {
  const byId = new Map<string, string>();
  const byIteration = new Map<number, string>();
  const merged: K6RequestRecord[] = [];
  for (const output of outputs) {
    const parser = new K6OutputParser();
    for (const line of output.lines) parser.push(line);
    for (const record of parser.finish().requests) {
      const sameId = byId.get(record.id);
      if (sameId !== undefined) {
        throw new ConfigError(
          `request id ${record.id} is in both ${sameId} and ${output.name}; merge each runner's output once`,
        );
      }
      const sameIteration = record.iteration >= 0 ? byIteration.get(record.iteration) : undefined;
      if (sameIteration !== undefined) {
        throw new ConfigError(
          `planned request ${record.iteration} was sent by both ${sameIteration} and ${output.name}: ` +
            `the runners' execution segments overlap`,
        );
      }
      byId.set(record.id, output.name);
      if (record.iteration >= 0) byIteration.set(record.iteration, output.name);
      merged.push(record);
    }
  }
  return merged.sort((a, b) => a.startMs - b.startMs);
}

/** The runner outputs in a directory (k6-output-*.json), or the files given. */
export function readRunnerOutputs(paths: readonly string[]): RunnerOutput[] {
  const files = paths.flatMap((p) =>
    fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((f) => /^k6-output-.*\.json$/.test(f))
          .sort()
          .map((f) => path.join(p, f))
      : [p],
  );
  if (files.length === 0) throw new ConfigError(`no k6-output-*.json in ${paths.join(", ")}`);
  return files.map((file) => ({ name: file, lines: fs.readFileSync(file, "utf8").split("\n") }));
}
