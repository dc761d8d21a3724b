import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { COMPOSE_FILE, projectContainers, projectVolumes } from "../../harness/compose/compose";
import type { MeshConfig } from "../../harness/config/mesh-config";
import { MESH_LINKS, MESH_SERVICES } from "../../harness/mesh";
import type { Verdict } from "../../harness/report/verdict";
import { freePort } from "../../harness/util/ports";
import { runCli } from "../support/cli";
import { containerExists, requireDockerMesh } from "../support/docker";

const COMPOSE_CLI = "harness/cli/compose.js";
const SCENARIOS = ["baseline", "payments-errors", "redis-outage"];

/**
 * The environment of a deployment of its own: a project name no user runs, its own run root, and every port variable
 * of compose/docker-compose.yml on a free port (its defaults are the tools' well-known ports).
 */
async function isolatedEnvironment(): Promise<Record<string, string>> {
  const variables = [
    ...new Set(
      [...fs.readFileSync(COMPOSE_FILE, "utf8").matchAll(/\$\{(MESHPROOF_\w+_PORT):-\d+\}/g)].map((m) => m[1]!),
    ),
  ];
  const ports = new Set<number>();
  while (ports.size < variables.length) ports.add(await freePort());
  return {
    MESHPROOF_COMPOSE_PROJECT: `meshproof-test-${process.pid}`,
    MESHPROOF_RUN_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-compose-")),
    ...Object.fromEntries(variables.map((v, i) => [v, String([...ports][i])])),
  };
}

describe("the compose reference deployment", () => {
  let environment: Record<string, string>;
  let up = false;

  afterAll(async () => {
    if (up) await runCli(COMPOSE_CLI, ["down"], environment);
  }, 60_000);

  test("compose:up, the catalog's baseline and faults through --attach compose, compose:down leaves nothing", async () => {
    await requireDockerMesh(["node"]);
    environment = await isolatedEnvironment();
    const project = environment.MESHPROOF_COMPOSE_PROJECT!;
    expect(Object.keys(environment).length).toBeGreaterThan(20);

    let started = performance.now();
    const upResult = await runCli(COMPOSE_CLI, ["up"], environment);
    up = true;
    const upMs = performance.now() - started;
    expect({ code: upResult.code, stderr: upResult.code === 0 ? "" : upResult.stderr }).toEqual({
      code: 0,
      stderr: "",
    });
    const summary = JSON.parse(upResult.stdout.trim().split("\n").pop()!) as {
      config: string;
      containers: Record<string, string>;
    };
    expect(Object.keys(summary.containers).sort()).toEqual(
      ["jaeger", "mesh-init", "prometheus", "redis", "toxiproxy", ...MESH_SERVICES].sort(),
    );
    expect(upResult.stderr).toContain(`compose project ${project}: 9 services healthy`);

    // The config describes the deployment on its ports: admin APIs with the token, every link, Jaeger, Prometheus.
    const config = JSON.parse(fs.readFileSync(summary.config, "utf8")) as MeshConfig;
    expect(summary.config).toBe(
      path.join(environment.MESHPROOF_RUN_ROOT!, `compose-${project}`, "meshproof.config.json"),
    );
    expect(config.services.gateway!.url).toBe(`http://127.0.0.1:${environment.MESHPROOF_GATEWAY_PORT}`);
    expect(config.services.inventory!.metricsUrl).toBe(
      `http://127.0.0.1:${environment.MESHPROOF_INVENTORY_OPS_PORT}/metrics`,
    );
    // Redis is in it as the datastore its link leads to: a role, no process of the mesh's to drive.
    const services = Object.values(config.services).filter((s) => s.role !== "datastore");
    expect(services.map((s) => s.role ?? "internal").sort()).toEqual(["edge", "internal", "internal", "internal"]);
    expect(services.every((s) => s.admin && s.admin.token.length >= 16 && s.logFile)).toBe(true);
    expect(config.services.redis).toEqual({ role: "datastore", protocol: "redis" });
    expect(config.traces).toEqual({ jaegerQueryUrl: `http://127.0.0.1:${environment.MESHPROOF_JAEGER_QUERY_PORT}` });
    expect(config.prometheus).toEqual({
      url: `http://127.0.0.1:${environment.MESHPROOF_PROMETHEUS_PORT}`,
      job: "mesh",
    });
    expect(Object.keys(config.links!).sort()).toEqual([...MESH_LINKS].sort());
    expect(Object.values(config.links!).every((l) => l.proxy)).toBe(true);
    const proxies = (await (await fetch(`${config.toxiproxy!.url}/proxies`)).json()) as Record<
      string,
      { listen: string; upstream: string }
    >;
    expect(proxies["orders-redis"]).toMatchObject({
      listen: `127.0.0.1:${environment.MESHPROOF_LINK_ORDERS_REDIS_PORT}`,
      upstream: `127.0.0.1:${environment.MESHPROOF_REDIS_PORT}`,
    });

    const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-attach-"));
    started = performance.now();
    const judged = await runCli(
      "harness/cli/scenario.js",
      [...SCENARIOS, "--attach", "compose", "--report-dir", reportDir],
      environment,
    );
    const judgeMs = performance.now() - started;
    expect({ code: judged.code, output: judged.code === 0 ? "" : judged.stderr + judged.stdout }).toEqual({
      code: 0,
      output: "",
    });
    const verdict = JSON.parse(fs.readFileSync(path.join(reportDir, "verdict.json"), "utf8")) as Verdict;
    expect(verdict.run.backend).toBe("compose");
    expect(verdict.run.mesh.description).toContain(`compose project ${project}`);
    expect(verdict.scenarios.map((s) => [s.name, s.status])).toEqual(SCENARIOS.map((n) => [n, "passed"]));
    // The faults went through the deployment's admin API and Toxiproxy, and were reverted.
    expect(verdict.scenarios.flatMap((s) => s.groundTruth.faults.map((f) => [f.kind, f.target]))).toEqual([
      ["error", "payments.Charge"],
      ["link-down", "orders-redis"],
    ]);
    expect(verdict.scenarios.every((s) => s.groundTruth.faults.every((f) => f.revertedAtMs))).toBe(true);

    started = performance.now();
    const down = await runCli(COMPOSE_CLI, ["down"], environment);
    const downMs = performance.now() - started;
    expect({ code: down.code, stderr: down.code === 0 ? "" : down.stderr }).toEqual({ code: 0, stderr: "" });
    up = false;
    for (const id of Object.values(summary.containers)) expect(await containerExists(id)).toBe(false);
    expect(await projectContainers(project)).toEqual([]);
    expect(await projectVolumes(project)).toEqual([]);
    expect(fs.existsSync(path.dirname(summary.config))).toBe(false);
    process.stderr.write(
      `compose: up ${Math.round(upMs)} ms, ${SCENARIOS.length} scenarios attached ${Math.round(judgeMs)} ms, down ${Math.round(downMs)} ms\n`,
    );
  }, 240_000);

  test("--attach compose with no deployment up exits 2 naming compose:up", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-compose-none-"));
    const result = await runCli("harness/cli/scenario.js", ["baseline", "--attach", "compose"], {
      MESHPROOF_RUN_ROOT: root,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--attach compose: no compose deployment of project "meshproof" is up`);
    expect(result.stderr).toContain('run "npm run compose:up" first');
  });

  test("--attach takes only compose, and not with --config or the sample mesh's options", async () => {
    const other = await runCli("harness/cli/scenario.js", ["--attach", "kubernetes"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`--attach kubernetes: the only deployment to attach to is "compose"`);
    const both = await runCli("harness/cli/scenario.js", ["--attach", "compose", "--config", "x.json"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--attach compose and --config both name the mesh");
  });
});
