import fs from "node:fs";
import path from "node:path";
import { k6ScriptEnv, k6ScriptPath } from "../../../harness/load/k6-driver";
import { k6OperatorManifests, mergeK6Outputs } from "../../../harness/load/k6-operator";
import { k6Scenario, parseK6Output } from "../../../harness/load/k6-output";
import { planRequests, type LoadPlan, type PlannedRequest } from "../../../harness/load/load-plan";
import { MESH_ROUTES } from "../../../harness/load/routes";

const FIXTURES = path.resolve(__dirname, "../../../../test/fixtures/k6");

describe("k6-operator manifests", () => {
  const plan: LoadPlan = {
    ratePerSec: 40,
    durationMs: 5_000,
    seed: 3,
    routes: [
      { route: "POST /api/checkout", weight: 1 },
      { route: "GET /api/products/:sku", weight: 1 },
    ],
  };
  // What `npm run k6:operator` writes is JSON (valid YAML): parse it back as kubectl would read it.
  const list = JSON.parse(
    JSON.stringify(k6OperatorManifests(plan, MESH_ROUTES, { parallelism: 4, baseUrl: "http://gateway:8080" })),
  ) as {
    kind: string;
    items: { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown }[];
  };
  const [configMap, claim, testRun] = list.items as [
    { kind: string; metadata: { name: string }; data: Record<string, string> },
    { kind: string; metadata: { name: string }; spec: { accessModes: string[] } },
    {
      apiVersion: string;
      kind: string;
      metadata: { name: string };
      spec: {
        parallelism: number;
        script: { configMap: { name: string; file: string } };
        arguments: string;
        runner: {
          image: string;
          env: { name: string; value?: string; valueFrom?: unknown }[];
          volumes: { name: string; persistentVolumeClaim: { claimName: string } }[];
          volumeMounts: { name: string; mountPath: string }[];
        };
      };
    },
  ];

  test("a List of ConfigMap, results claim and TestRun, in the order they are needed", () => {
    expect(list.kind).toBe("List");
    expect(list.items.map((i) => `${i.apiVersion} ${i.kind} ${i.metadata.name}`)).toEqual([
      "v1 ConfigMap meshproof-load-script",
      "v1 PersistentVolumeClaim meshproof-load-results",
      "k6.io/v1alpha1 TestRun meshproof-load",
    ]);
    expect(claim.spec.accessModes).toEqual(["ReadWriteMany"]);
  });

  test("the ConfigMap holds the typed script as is and the same data the local driver passes", () => {
    expect(configMap.data["mesh-load.ts"]).toBe(fs.readFileSync(k6ScriptPath(), "utf8"));
    const config = JSON.parse(configMap.data["k6-config.json"]!) as {
      options: { scenarios: Record<string, unknown> };
      timeoutMs: number;
    };
    expect(config.options.scenarios).toEqual({ meshproof: k6Scenario(plan) });
    expect(config.timeoutMs).toBe(10_000);
    expect(JSON.parse(configMap.data["k6-requests.json"]!) as PlannedRequest[]).toEqual(
      planRequests(plan, MESH_ROUTES),
    );
  });

  test("the TestRun: N runners, the script from the ConfigMap, the local driver's env, --out json per runner", () => {
    expect(testRun.spec.parallelism).toBe(4);
    expect(testRun.spec.script).toEqual({ configMap: { name: "meshproof-load-script", file: "mesh-load.ts" } });
    const env = Object.fromEntries(
      testRun.spec.runner.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
    );
    expect(env).toEqual(
      k6ScriptEnv({
        baseUrl: "http://gateway:8080",
        config: "/test/k6-config.json",
        requests: "/test/k6-requests.json",
      }),
    );
    expect(testRun.spec.runner.env).toContainEqual({
      name: "MESHPROOF_RUNNER",
      valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
    });
    expect(testRun.spec.arguments.split(" ")).toEqual(
      expect.arrayContaining(["--out", "json=/results/k6-output-$(MESHPROOF_RUNNER).json"]),
    );
    expect(testRun.spec.runner.volumes).toEqual([
      { name: "results", persistentVolumeClaim: { claimName: "meshproof-load-results" } },
    ]);
    expect(testRun.spec.runner.volumeMounts).toEqual([{ name: "results", mountPath: "/results" }]);
    expect(testRun.spec.runner.image).toBe("grafana/k6:1.8.1");
  });

  test("parallelism must be a whole number >= 1; a plan over a ConfigMap's 1 MiB is refused", () => {
    expect(() => k6OperatorManifests(plan, MESH_ROUTES, { parallelism: 0, baseUrl: "http://g" })).toThrow(
      "--parallelism must be an integer >= 1 (got 0)",
    );
    expect(() =>
      k6OperatorManifests({ ...plan, ratePerSec: 1000, durationMs: 60_000 }, MESH_ROUTES, {
        parallelism: 2,
        baseUrl: "http://g",
      }),
    ).toThrow(/over Kubernetes' 1 MiB/);
  });
});

describe("merging runners' request logs", () => {
  // Two "runners": the real fixture output split by iteration parity, as two execution segments would send it.
  const lines = fs.readFileSync(path.join(FIXTURES, "server.jsonl"), "utf8").split("\n").filter(Boolean);
  const iterationOf = (line: string) =>
    (JSON.parse(line) as { data: { metadata?: { iteration?: string } } }).data.metadata?.iteration;
  const runner = (parity: number) =>
    lines.filter((l) => {
      const i = iterationOf(l);
      return i === undefined || Number(i) % 2 === parity;
    });

  test("one log sorted by start, every request once", () => {
    const merged = mergeK6Outputs([
      { name: "k6-output-runner-1.json", lines: runner(1) },
      { name: "k6-output-runner-0.json", lines: runner(0) },
    ]);
    expect(merged).toEqual(parseK6Output(lines).requests);
    expect(merged.map((r) => r.startMs)).toEqual([...merged.map((r) => r.startMs)].sort((a, b) => a - b));
  });

  test("a duplicate request id is rejected, naming both outputs", () => {
    expect(() =>
      mergeK6Outputs([
        { name: "a.json", lines: runner(0) },
        { name: "b.json", lines: runner(0) },
      ]),
    ).toThrow(/request id [0-9a-f-]{36} is in both a.json and b.json/);
  });

  test("the same planned request from two runners (overlapping segments) is rejected", () => {
    const renamed = runner(0).map((l) => l.replaceAll(/"request_id":"[0-9a-f]/g, '"request_id":"x'));
    expect(() =>
      mergeK6Outputs([
        { name: "a.json", lines: runner(0) },
        { name: "b.json", lines: renamed },
      ]),
    ).toThrow(/planned request 0 was sent by both a.json and b.json/);
  });
});
