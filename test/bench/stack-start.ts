/**
 * Prints backend stack start and stop times (first start in a fresh process = "first", later ones = "warm"), how
 * long Prometheus takes to scrape a file_sd target after it is written, and how long after a SIGKILL of the harness
 * its backends are gone. With --backend docker the docker backend is measured beside native in the same run, plus
 * the images: a warm no-op check and a cold build of every image (base included, no layer cache, under a scratch
 * namespace that is removed afterwards; --no-cold-build skips it).
 * Usage: npm run bench:stack [-- --runs N] [-- --backend native|docker] [-- --no-cold-build]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createBackend } from "../../harness/backends";
import { dockerBackendImages } from "../../harness/backends/docker-backend";
import { DOCKER_SETUP_COMMAND, engineRequest, engineState } from "../../harness/docker/engine";
import { IMAGE_NAMES, ImageBuilder } from "../../harness/docker/images";
import { provisionTools } from "../../harness/tools/provision";
import { BACKEND_TOOL_NAMES } from "../../harness/tools/tools";
import { LOOPBACK } from "../../harness/util/ports";
import { retryUntil } from "../../harness/util/retry";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    backend: { type: "string", default: "native" },
    "no-cold-build": { type: "boolean", default: false },
  },
});
const runs = Math.max(2, Number(values.runs));
if (values.backend !== "native" && values.backend !== "docker") {
  console.error(`--backend must be native or docker (got "${values.backend}")`);
  process.exit(2);
}
const backends = values.backend === "docker" ? (["native", "docker"] as const) : (["native"] as const);

interface Figures {
  first: number;
  warm: number[];
  stops: number[];
  fileSd: number[];
  orphanMs: number;
}

function stats(samples: number[]): string {
  if (samples.length === 0) return "-";
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(0)} ms (${sorted[0]!.toFixed(0)}-${sorted.at(-1)!.toFixed(0)}, n=${sorted.length})`;
}

async function measureStack(name: "native" | "docker", address: string): Promise<Figures> {
  const starts: number[] = [];
  const stops: number[] = [];
  const fileSd: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const stack = await createBackend(name).start();
    starts.push(performance.now() - t);
    if (i < 3) {
      t = performance.now();
      stack.prometheus.addTargets("bench", [{ address }]);
      await retryUntil(
        () => stack.prometheus.query(`up{instance="${address}"}`),
        (s) => s[0]?.value === 1,
        { timeoutMs: 20_000, description: "file_sd target scraped", maxDelayMs: 50 },
      );
      fileSd.push(performance.now() - t);
    }
    t = performance.now();
    await stack.stop();
    stops.push(performance.now() - t);
  }
  return { first: starts[0]!, warm: starts.slice(1), stops, fileSd, orphanMs: await orphanRemoval(name) };
}

/** Starts `npm run stack` as a child, SIGKILLs it, and times until its processes and containers are gone. */
async function orphanRemoval(name: "native" | "docker"): Promise<number> {
  const cli = path.resolve(__dirname, "..", "..", "harness", "cli", "stack.js");
  const child = spawn(process.execPath, [cli, "--backend", name], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("close", (code) => reject(new Error(`stack CLI exited ${code} before printing its endpoints`)));
  });
  const { pids, containers } = JSON.parse(line) as { pids: number[]; containers: string[] };
  const closed = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGKILL");
  await closed;
  const killedAt = performance.now();
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const exists = async (id: string) => (await engineRequest("GET", `/containers/${id}/json`)).status !== 404;
  await retryUntil(
    async () => pids.some(alive) || (await Promise.all(containers.map(exists))).some(Boolean),
    (left) => !left,
    { timeoutMs: 30_000, description: `${name} backends of a SIGKILLed harness to be gone`, maxDelayMs: 20 },
  );
  return performance.now() - killedAt;
}

async function coldBuild(): Promise<{ lines: string[]; totalMs: number }> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-bench-images-"));
  const builder = new ImageBuilder({ namespace: `meshproof-bench-${process.pid}`, noCache: true, workDir });
  const started = performance.now();
  try {
    const results = await builder.ensure(IMAGE_NAMES, () => undefined);
    return {
      lines: results.map((r) => `${r.name} ${(r.ms / 1000).toFixed(1)} s`),
      totalMs: performance.now() - started,
    };
  } finally {
    await builder.removeAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let t = performance.now();
  await provisionTools({ tools: BACKEND_TOOL_NAMES });
  console.log(`tool check (all provisioned): ${(performance.now() - t).toFixed(0)} ms`);
  if (values.backend === "docker") {
    const engine = await engineState();
    const images = engine.answers ? await dockerBackendImages() : undefined;
    const problem = engine.answers ? images?.problem : engine.reason;
    if (problem) {
      console.error(`the docker benchmark needs an engine and the images (${problem}); run "${DOCKER_SETUP_COMMAND}"`);
      process.exitCode = 2;
      return;
    }
  }

  const target = http.createServer((_req, res) => res.end("# TYPE bench_value gauge\nbench_value 1\n"));
  await new Promise<void>((resolve) => target.listen(0, LOOPBACK, resolve));
  const address = `${LOOPBACK}:${(target.address() as AddressInfo).port}`;
  const figures: Partial<Record<"native" | "docker", Figures>> = {};
  for (const name of backends) figures[name] = await measureStack(name, address);
  target.close();

  const rows: [string, ...string[]][] = [
    ["stack start, first in this process", ...backends.map((b) => `${figures[b]!.first.toFixed(0)} ms`)],
    ["stack start, warm (target <= 5000 ms)", ...backends.map((b) => stats(figures[b]!.warm))],
    ["stack stop", ...backends.map((b) => stats(figures[b]!.stops))],
    ["file_sd target written -> up == 1", ...backends.map((b) => stats(figures[b]!.fileSd))],
    ["gone after SIGKILL of the harness", ...backends.map((b) => `${figures[b]!.orphanMs.toFixed(0)} ms`)],
  ];
  if (values.backend === "docker") {
    const builder = new ImageBuilder();
    t = performance.now();
    await builder.ensure(IMAGE_NAMES, () => undefined);
    const warmMs = performance.now() - t;
    t = performance.now();
    await builder.ensure(IMAGE_NAMES, () => undefined);
    const warmAgainMs = performance.now() - t;
    rows.push(["images, warm no-op check (all 7)", "-", `${warmMs.toFixed(0)} ms, again ${warmAgainMs.toFixed(0)} ms`]);
    if (values["no-cold-build"]) {
      rows.push(["images, cold build", "-", "skipped (--no-cold-build)"]);
    } else {
      process.stderr.write("cold image build (debootstrap, no layer cache; about two minutes)…\n");
      const cold = await coldBuild();
      rows.push(["images, cold build (base + all)", "-", `${(cold.totalMs / 1000).toFixed(1)} s`]);
      rows.push(["  per image", "-", cold.lines.join(", ")]);
    }
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  const column = Math.max(...rows.map((r) => (r[1] ?? "").length), 6);
  console.log(`${"".padEnd(width)}  ${backends.map((b, i) => (i === 0 ? b.padEnd(column) : b)).join("  ")}`);
  for (const [label, ...cells] of rows) {
    console.log(
      `${label.padEnd(width)}  ${cells.map((c, i) => (i === 0 && cells.length > 1 ? c.padEnd(column) : c)).join("  ")}`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
