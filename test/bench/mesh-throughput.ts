/**
 * Prints gateway checkout throughput and p99 in three modes (no preload, OTEL_SDK_DISABLED=true, full tracing) and
 * a CPU profile summary of gateway and orders under full tracing. Loopback only; bounded by --duration-ms per mode.
 *
 * With --impl payments=go a fourth mode runs the full instrumentation with the Go payments service, so its CPU per
 * checkout stands beside the TypeScript one's.
 *
 *   npm run bench:mesh [-- --duration-ms 10000] [--connections 16] [--repeats 3] [--skip-profile] [--impl payments=go]
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { NativeBackend } from "../../harness/backends";
import { startMesh, type TelemetryMode } from "../../harness/mesh";

const run = promisify(execFile);
const WRK = "/usr/bin/wrk";

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Figures {
  mode: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  /** CPU seconds per 1000 requests, by process, during the measured window. */
  cpuPerKiloRequest?: Record<string, number>;
}

function parseMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const value = Number(m[1]);
  return m[2] === "us" ? value / 1000 : m[2] === "s" ? value * 1000 : value;
}

async function wrk(
  url: string,
  script: string,
  durationMs: number,
  connections: number,
): Promise<Omit<Figures, "mode">> {
  const { stdout } = await run(WRK, [
    "-t1",
    `-c${connections}`,
    `-d${Math.round(durationMs / 1000)}s`,
    "--latency",
    "-s",
    script,
    url,
  ]);
  const line = (re: RegExp) => re.exec(stdout)?.[1] ?? "";
  return {
    rps: Number(line(/Requests\/sec:\s+([\d.]+)/)),
    p50Ms: parseMs(line(/\n\s+50%\s+(\S+)/)),
    p99Ms: parseMs(line(/\n\s+99%\s+(\S+)/)),
    requests: Number(line(/(\d+) requests in/)),
    non2xx: Number(line(/Non-2xx or 3xx responses: (\d+)/) || 0),
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function and by area (OTel, prom-client, express, ...) from a .cpuprofile. */
function summariseProfile(file: string, top: number): string {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
  };
  const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const usPerHit = (profile.endTime - profile.startTime) / Math.max(totalHits, 1);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    busy += hits;
    const where = url
      ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/dist\//, "dist/")}:${lineNumber + 1}`
      : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    byArea.set(area(url, functionName), (byArea.get(area(url, functionName)) ?? 0) + hits);
  }
  const pct = (hits: number) => `${((100 * hits) / Math.max(busy, 1)).toFixed(1).padStart(5)}%`;
  const lines = [
    `  busy ${((busy * usPerHit) / 1e6).toFixed(1)} s of ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled`,
  ];
  lines.push("  by area (share of busy time):");
  for (const [name, hits] of [...byArea].sort((a, b) => b[1] - a[1])) lines.push(`    ${pct(hits)}  ${name}`);
  lines.push(`  top ${top} functions by self time:`);
  for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`    ${pct(hits)}  ${name}`);
  return lines.join("\n");
}

function area(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "garbage collector";
  if (fn === "(program)") return "V8/native (program)";
  if (url.includes("@opentelemetry/")) return "OpenTelemetry SDK + instrumentations";
  if (url.includes("protobufjs") || url.includes("@grpc/")) return "gRPC (grpc-js, protobufjs)";
  if (url.includes("prom-client")) return "prom-client";
  if (url.includes("pino") || url.includes("sonic-boom")) return "pino logging";
  if (url.includes("express") || url.includes("router") || url.includes("body-parser") || url.includes("raw-body")) {
    return "express";
  }
  if (url.includes("axios") || url.includes("follow-redirects")) return "axios";
  if (url.includes("ioredis") || url.includes("redis")) return "ioredis";
  if (url.includes("/dist/services/")) return "mesh services + kit";
  if (url.startsWith("node:") || !url) return "Node.js core";
  return "other node_modules";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "duration-ms": { type: "string", default: "10000" },
      connections: { type: "string", default: "16" },
      "skip-profile": { type: "boolean", default: false },
      repeats: { type: "string", default: "3" },
      impl: { type: "string" },
    },
  });
  const repeats = Math.max(1, Number(values.repeats));
  const durationMs = Number(values["duration-ms"]);
  const connections = Number(values.connections);
  if (!fs.existsSync(WRK)) throw new Error(`${WRK} not found (apt-get install wrk)`);

  await using stack = await new NativeBackend().start();
  const workDir = path.join(stack.runDir, "bench");
  fs.mkdirSync(workDir, { recursive: true });
  const script = path.join(workDir, "checkout.lua");
  fs.writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = '${JSON.stringify({ items: [{ sku: "sku-1", qty: 1 }], card: "4111111111111111" })}'`,
      'wrk.headers["Content-Type"] = "application/json"',
      "",
    ].join("\n"),
  );

  if (values.impl !== undefined && values.impl !== "payments=go") {
    console.error(`--impl: only payments=go is known (got "${values.impl}")`);
    process.exit(2);
  }
  const modes: { mode: TelemetryMode; label: string; go?: boolean }[] = [
    { mode: "none", label: "no preload" },
    { mode: "sdk-disabled", label: "OTEL_SDK_DISABLED=true" },
    { mode: "full", label: "full instrumentation" },
    ...(values.impl ? [{ mode: "full" as const, label: "full, payments=go", go: true }] : []),
  ];
  // Modes run in rounds, so slow drift of the machine (page cache, thermal, neighbours) hits every mode alike; each
  // mode's figures are the median round.
  const rounds = new Map<string, Figures[]>(modes.map((m) => [m.label, []]));
  for (let round = 1; round <= repeats; round++) {
    for (const { mode, label, go } of modes) {
      await using mesh = await startMesh(stack, {
        telemetry: mode,
        runDir: path.join(workDir, `${mode}${go ? "-go" : ""}-${round}`),
        ...(go ? { impl: { payments: "go" as const } } : {}),
      });
      const url = `${mesh.gatewayUrl}/api/checkout`;
      await wrk(url, script, 2_000, connections); // warm-up: JIT, connection pools
      const processes: Record<string, number> = {
        ...Object.fromEntries(Object.values(mesh.services).map((svc) => [svc.name, svc.pid])),
        jaeger: stack.jaeger.component.handle.pid,
        prometheus: stack.prometheus.component.handle.pid,
        toxiproxy: stack.toxiproxy.component.handle.pid,
        redis: stack.redis.component.handle.pid,
      };
      const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
      const figures = await wrk(url, script, durationMs, connections);
      const cpuPerKiloRequest = Object.fromEntries(
        Object.entries(processes).map(([name, pid]) => [
          name,
          ((cpuSeconds(pid) - before[name]!) * 1000) / figures.requests,
        ]),
      );
      rounds.get(label)!.push({ mode: label, ...figures, cpuPerKiloRequest });
      process.stderr.write(
        `round ${round} ${label}: ${figures.rps.toFixed(0)} req/s, p99 ${figures.p99Ms.toFixed(1)} ms\n`,
      );
      await mesh.stop();
    }
  }
  const results = [...rounds.values()].map(
    (all) => [...all].sort((a, b) => a.rps - b.rps)[Math.floor(all.length / 2)]!,
  );

  const baseline = results[0]!.rps;
  process.stdout.write(
    `\ngateway POST /api/checkout, ${connections} connections, ${durationMs / 1000} s per mode after a 2 s warm-up (wrk, loopback), median of ${repeats} rounds\n`,
  );
  process.stdout.write(
    `${"mode".padEnd(26)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"cost".padStart(8)}${"non-2xx".padStart(9)}\n`,
  );
  for (const r of results) {
    const cost = ((1 - r.rps / baseline) * 100).toFixed(1);
    process.stdout.write(
      `${r.mode.padEnd(26)}${r.rps.toFixed(0).padStart(9)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}${`${cost}%`.padStart(8)}${String(r.non2xx).padStart(9)}\n`,
    );
  }
  process.stdout.write(`\nCPU seconds per 1000 checkouts, by process (median round):\n`);
  const names = Object.keys(results[0]!.cpuPerKiloRequest ?? {});
  process.stdout.write(`${"mode".padEnd(26)}${names.map((n) => n.padStart(11)).join("")}${"total".padStart(9)}\n`);
  for (const r of results) {
    const cpu = r.cpuPerKiloRequest ?? {};
    const total = Object.values(cpu).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${r.mode.padEnd(26)}${names.map((n) => (cpu[n] ?? 0).toFixed(2).padStart(11)).join("")}${total.toFixed(2).padStart(9)}\n`,
    );
  }
  const full = results[2]!;
  const verdict = 1 - full.rps / baseline <= 0.25 ? "within" : "OVER";
  process.stdout.write(
    `full instrumentation cost ${((1 - full.rps / baseline) * 100).toFixed(1)}% (${verdict} the 25% target)\n`,
  );

  if (values["skip-profile"]) return;
  const profDir = path.join(workDir, "profiles");
  {
    await using mesh = await startMesh(stack, {
      telemetry: "full",
      runDir: path.join(workDir, "profile"),
      nodeArgs: {
        gateway: ["--cpu-prof", `--cpu-prof-dir=${path.join(profDir, "gateway")}`],
        orders: ["--cpu-prof", `--cpu-prof-dir=${path.join(profDir, "orders")}`],
      },
    });
    await wrk(`${mesh.gatewayUrl}/api/checkout`, script, durationMs, connections);
    await mesh.stop();
  }
  for (const service of ["gateway", "orders"]) {
    const dir = path.join(profDir, service);
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no CPU profile written in ${dir}`);
    process.stdout.write(`\nCPU profile of ${service} (full instrumentation, ${path.join(dir, file)}):\n`);
    process.stdout.write(`${summariseProfile(path.join(dir, file), 12)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
