import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { TelemetryContract } from "../../assertions/contract";
import { NativeBackend } from "../../harness/backends";
import type { JaegerTrace } from "../../harness/backends/trace-store";
import type { MeshConfig } from "../../harness/config/mesh-config";
import { launchConfigMesh } from "../../harness/mesh/launched-mesh";
import { resolveTool } from "../../harness/tools/tools";
import { retryUntil } from "../../harness/util/retry";
import { DIST, runCli } from "../support/cli";

const INIT = "harness/cli/init.js";
const HOTROD_CONFIG = path.resolve(DIST, "../examples/hotrod/meshproof.config.ts");
const DISPATCHES = 20;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-init-"));
}

/** A .ts config as the project's loader reads it, in a Node of its own (Jest's module system cannot load one). */
async function loadConfig(file: string): Promise<MeshConfig> {
  const loader = path.join(DIST, "harness/config/mesh-config.js");
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(loader)}).loadMeshConfig(${JSON.stringify(file)})))`;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", script]);
  return JSON.parse(stdout) as MeshConfig;
}

async function dispatchTraces(queryUrl: string): Promise<JaegerTrace[]> {
  const params = new URLSearchParams({ service: "frontend", operation: "/dispatch", limit: String(DISPATCHES) });
  const response = await fetch(`${queryUrl}/api/traces?${params}`);
  return ((await response.json()) as { data: JaegerTrace[] }).data;
}

describe("npm run init", () => {
  test("drafts a config and contract of HotROD from its Prometheus and Jaeger that bind the catalog", async () => {
    // A missing binary fails here, naming `npm run setup`.
    await resolveTool("hotrod");
    await using stack = await new NativeBackend().start();
    await using mesh = await launchConfigMesh(await loadConfig(HOTROD_CONFIG), {
      baseDir: path.dirname(HOTROD_CONFIG),
      stack,
      runDir: path.join(stack.runDir, "hotrod"),
      samplingRatio: 1,
    });
    for (let i = 0; i < DISPATCHES; i++) {
      const response = await fetch(`${mesh.edgeUrl}/dispatch?customer=123`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    // Every dispatch's 39 or 40 spans exported, and the frontend's counters scraped.
    await retryUntil(
      () => dispatchTraces(stack.jaeger.queryUrl),
      (traces) => traces.length === DISPATCHES && traces.every((t) => t.spans.length >= 39),
      { timeoutMs: 30_000, description: `${DISPATCHES} complete /dispatch traces in Jaeger` },
    );
    await retryUntil(
      () => stack.prometheus.query('sum(hotrod_requests_total{endpoint="/dispatch"})'),
      (samples) => (samples[0]?.value ?? 0) >= DISPATCHES,
      { timeoutMs: 30_000, description: `${DISPATCHES} dispatches counted in Prometheus` },
    );
    const out = tempDir();
    try {
      const args = ["--prometheus", stack.prometheus.url, "--jaeger", stack.jaeger.queryUrl, "--edge", mesh.edgeUrl];
      const init = await runCli(INIT, [...args, "--out", out]);
      expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: "" });
      const configFile = path.join(out, "meshproof.config.ts");
      expect(init.stdout).toContain(`wrote ${configFile}: 4 services, 1 route, 5 hops, 3 links`);
      expect(init.stdout).toContain(`npm run scenario -- --config ${configFile} baseline`);

      const config = await loadConfig(configFile);
      expect(Object.keys(config.services)).toEqual(["frontend", "customer", "driver", "route"]);
      expect(config.services.frontend).toMatchObject({ role: "edge", url: mesh.edgeUrl, contract: "contract.json" });
      expect(config.services.frontend!.metricsUrl).toBe(`${mesh.edgeUrl}/metrics`);
      const { request, hops } = config.routes["GET /dispatch"]!;
      expect(request).toEqual({ method: "GET", path: "/dispatch?customer=123" });
      expect(hops.map((h) => [h.from, h.to, h.protocol, h.reportedBy, h.count])).toEqual([
        ["frontend", "customer", "http", undefined, undefined],
        ["customer", "mysql", "sql", "mysql", undefined],
        ["frontend", "driver", "grpc", undefined, undefined],
        ["driver", "redis", "redis", "redis-manual", expect.objectContaining({ min: expect.any(Number) })],
        ["frontend", "route", "http", undefined, { min: 10, max: 10 }],
      ]);

      const contract = JSON.parse(fs.readFileSync(path.join(out, "contract.json"), "utf8")) as TelemetryContract;
      expect(contract.httpServerRequests).toMatchObject({
        name: "hotrod_requests_total",
        labelKeys: ["endpoint", "error"],
      });
      expect(contract.httpServerDuration).toMatchObject({
        name: "hotrod_request_latency",
        labelKeys: ["endpoint", "error"],
      });
      expect(contract.labels).toMatchObject({ httpRoute: "endpoint", httpStatusCode: "error" });

      const text = fs.readFileSync(configFile, "utf8");
      expect(text).toMatch(/\/\/ guess: 10 calls per request in each of 20 sampled traces/);
      expect(text).toMatch(/\/\/ fill in: /);

      const list = await runCli("harness/cli/scenario.js", ["--config", configFile, "--list"]);
      expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 0, stderr: "" });
      const bound = list.stdout
        .split("\n")
        .slice(1)
        .filter((line) => line.trim() && !line.includes("(does not bind"));
      expect(bound.length).toBeGreaterThanOrEqual(10);

      const again = await runCli(INIT, [...args, "--out", out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(`${configFile} exists: pass --force`);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);

  test("usage errors exit 2 and say what to give", async () => {
    const missing = await runCli(INIT, ["--prometheus", "http://127.0.0.1:9090"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--jaeger URL is required");
    const remote = await runCli(INIT, ["--prometheus", "http://prometheus:9090", "--jaeger", "http://127.0.0.1:1"]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("give a loopback URL");
    const out = tempDir();
    try {
      // Port 1 answers nothing: the message names the flag to check.
      const down = await runCli(INIT, [
        "--prometheus",
        "http://127.0.0.1:1",
        "--jaeger",
        "http://127.0.0.1:1",
        "--out",
        out,
      ]);
      expect(down.code).toBe(2);
      expect(down.stderr).toMatch(/Jaeger did not answer http:\/\/127\.0\.0\.1:1\/api\/services .*--jaeger/);
      expect(fs.readdirSync(out)).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
