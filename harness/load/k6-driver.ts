import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { runRootDir } from "../config/env";
import { MeshproofError } from "../errors";
import { resolveTool } from "../tools/tools";
import type { OnLoadProgress } from "./progress";
import { ManagedProcess } from "../util/managed-process";
import { percentileOf, type LoadResult, type LoadTarget } from "./inline-driver";
import {
  k6Scenario,
  k6ScheduleDriftMs,
  K6OutputParser,
  mapK6Exit,
  thresholdsOf,
  type K6Outcome,
  type K6RequestRecord,
  type K6Scenario,
  type K6SizingOptions,
  type K6Threshold,
} from "./k6-output";
import { planRequests, validatePlan, type LoadPlan, type PlannedRequest } from "./load-plan";

/** The k6 script, as TypeScript source (k6 runs it directly), relative to the repository root. */
export const K6_SCRIPT = "harness/load/k6/mesh-load.ts";

/** What the script reads from MESHPROOF_K6_CONFIG (see harness/load/k6/mesh-load.ts). */
export interface K6ScriptConfig {
  options: {
    scenarios: Record<string, K6Scenario>;
    thresholds?: Record<string, string[]>;
    discardResponseBodies: boolean;
    summaryTrendStats: string[];
  };
  timeoutMs: number;
}

export interface K6LoadOptions extends K6SizingOptions {
  /** k6 thresholds in k6's syntax, e.g. `{ http_req_failed: ["rate<0.01"] }`. Default: none. */
  thresholds?: Record<string, string[]>;
  /** After SIGINT on abort, how long k6 gets to stop and write its output before SIGKILL. Default 5000. */
  stopGraceMs?: number;
  /** Where the script's data, k6's JSON output, summary and logs go. Default: a fresh directory under MESHPROOF_RUN_ROOT. */
  workDir?: string;
  /** Keep workDir after the run (it is always kept when k6 fails to run, and the error names it). Default false. */
  keepFiles?: boolean;
  /** The k6 binary. Default: the provisioned one (or MESHPROOF_K6_BIN). */
  k6Bin?: string;
  /** More `k6 run` arguments, e.g. an execution segment (what k6-operator gives each runner). Default none. */
  extraArgs?: readonly string[];
  /** Hears the counts while k6 runs (read from its JSON output as it grows, about twice a second). */
  onProgress?: OnLoadProgress;
}

/** What k6 adds to the request log: its verdict, its summary, its own accounting. */
export interface K6Extras {
  /** k6's exit code (null when killed by a signal) and what it means. */
  k6ExitCode: number | null;
  signal: string | null;
  outcome: K6Outcome;
  /** The exit code meshproof gives this outcome: 0 passed, 1 a threshold crossed, 2 error or aborted. */
  exitCode: 0 | 1 | 2;
  /** Iterations the executor could not start for want of a free VU (the request was never sent). */
  droppedIterations: number;
  /** Iterations k6 ran (the ones past the plan's end send nothing). */
  iterations: number;
  /** Requests the plan held. */
  planned: number;
  thresholds: K6Threshold[];
  /** The `--summary-export` JSON (undefined when k6 was killed before writing it). */
  summary: unknown;
  /** The end-of-test summary k6 printed (stdout). */
  summaryText: string;
  scenario: K6Scenario;
  /** Requests whose start came from the script's clock (ms) because k6 timed no phase (e.g. connection refused). */
  scriptTimedRequests: number;
  /** The k6 version that ran. */
  version: string;
  /** Where the files were (removed once parsed unless keepFiles). */
  workDir: string;
  durationMs: number;
}

export interface K6LoadResult extends LoadResult {
  requests: K6RequestRecord[];
  k6: K6Extras;
}

/** The environment the script needs; the local driver and the k6-operator TestRun pass the same. */
export function k6ScriptEnv(files: { baseUrl: string; config: string; requests: string }): Record<string, string> {
  return {
    MESHPROOF_BASE_URL: files.baseUrl,
    MESHPROOF_K6_CONFIG: files.config,
    MESHPROOF_K6_REQUESTS: files.requests,
    // Loopback only: no usage report to the internet, no extension download.
    K6_NO_USAGE_REPORT: "true",
    K6_AUTO_EXTENSION_RESOLUTION: "false",
  };
}

/** The script config for a plan: one open-model scenario, thresholds, p(99) in the summary. */
export function k6ScriptConfig(plan: LoadPlan, options: K6LoadOptions = {}): K6ScriptConfig {
  return {
    options: {
      scenarios: { meshproof: k6Scenario(plan, options) },
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
      discardResponseBodies: true,
      summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"],
    },
    timeoutMs: plan.timeoutMs ?? 10_000,
  };
}

/** The script's data files, written into dir. */
export function writeK6Data(
  dir: string,
  plan: LoadPlan,
  planned: readonly PlannedRequest[],
  options: K6LoadOptions = {},
): { config: string; requests: string } {
  const config = path.join(dir, "k6-config.json");
  const requests = path.join(dir, "k6-requests.json");
  fs.writeFileSync(config, `${JSON.stringify(k6ScriptConfig(plan, options), null, 2)}\n`);
  fs.writeFileSync(requests, JSON.stringify(planned));
  return { config, requests };
}

/** Finds the script's TypeScript source from the compiled driver (dist/harness/load) or the source tree. */
export function k6ScriptPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, K6_SCRIPT);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new MeshproofError(`${K6_SCRIPT} not found above ${__dirname}`);
  }
}

/**
 * The k6 driver: the same plan, target and request log as runInlineLoad, sent by k6 (open model:
 * constant-arrival-rate, or ramping-arrival-rate for a plan with stages). The plan's requests (routes from the
 * catalog, traceparent modes) are decided here from the seed and handed to the script as data; the script
 * generates the ids and sends one request per iteration. k6 runs as a ManagedProcess (its own process group,
 * registered with the lifeline). Bounded: never more requests than the plan, and k6 is stopped (SIGINT, SIGKILL
 * after stopGraceMs) when the signal aborts or the run overstays its duration + timeout + 60 s; what k6 recorded
 * up to then is returned. A k6 that fails before sending (script or usage error) throws, naming its log.
 */
export async function runK6Load(
  plan: LoadPlan,
  target: LoadTarget,
  signal?: AbortSignal,
  options: K6LoadOptions = {},
): Promise<K6LoadResult> {
  validatePlan(plan);
  const planned = planRequests(plan, target.routes);
  const tool = options.k6Bin ? { path: options.k6Bin, version: "(given)" } : await resolveTool("k6");
  const workDir =
    options.workDir ?? path.join(runRootDir(), `k6-${Date.now()}-${crypto.randomBytes(3).toString("hex")}`);
  fs.mkdirSync(workDir, { recursive: true });
  const files = writeK6Data(workDir, plan, planned, options);
  const out = path.join(workDir, "k6-output.json");
  const summaryFile = path.join(workDir, "k6-summary.json");
  const stdoutFile = path.join(workDir, "k6-stdout.log");
  const logFile = path.join(workDir, "k6.log");
  const scenario = k6ScriptConfig(plan, options).options.scenarios.meshproof!;

  const started = performance.now();
  const k6 = await ManagedProcess.spawn({
    name: "k6",
    command: tool.path,
    args: [
      "run",
      "--quiet",
      "--no-color",
      "--no-usage-report",
      "--address=", // no REST API: nothing to collide with another k6 on this machine
      `--log-output=file=${logFile}`,
      "--out",
      `json=${out}`,
      `--summary-export=${summaryFile}`,
      ...(options.extraArgs ?? []),
      k6ScriptPath(),
    ],
    logFile: stdoutFile,
    cwd: workDir,
    env: { ...process.env, ...k6ScriptEnv({ baseUrl: target.baseUrl, ...files }) },
  });

  const stopGraceMs = options.stopGraceMs ?? 5_000;
  let stoppedBy: string | undefined;
  const stop = (why: string) => {
    stoppedBy ??= why;
    void k6.stop(stopGraceMs, "SIGINT");
  };
  const onAbort = () => stop("aborted");
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const deadlineMs = plan.durationMs + (plan.timeoutMs ?? 10_000) + 60_000;
  const watchdog = setTimeout(() => stop(`overstayed ${deadlineMs} ms`), deadlineMs);
  // k6's output is parsed as it grows: the progress counts come from it, and little is left to read at the end.
  const parser = new K6OutputParser();
  const tail = new LineTail(out, (line) => parser.push(line));
  const progress = setInterval(() => {
    tail.read();
    options.onProgress?.({ planned: planned.length, ...parser.counts() });
  }, 500);
  try {
    await k6.waitForExit();
  } finally {
    clearInterval(progress);
    clearTimeout(watchdog);
    signal?.removeEventListener("abort", onAbort);
  }
  tail.read(true);
  const parsed = parser.finish();
  const summary = readJson(summaryFile);
  const mapped = mapK6Exit(k6.exitCode, k6.exitSignal);
  const outcome: K6Outcome = stoppedBy ? "aborted" : mapped.outcome;
  const exitCode = stoppedBy ? 2 : mapped.exitCode;
  const readText = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");

  if (
    !stoppedBy &&
    (outcome === "script-error" || outcome === "usage-error" || (outcome === "error" && parsed.requests.length === 0))
  ) {
    const tail = `${readText(logFile)}\n${readText(stdoutFile)}`.trim().split("\n").slice(-15).join("\n");
    throw new MeshproofError(
      `k6 ${k6.exitDescription} (${outcome}) running ${K6_SCRIPT}; files kept in ${workDir}; last log lines:\n${tail}`,
    );
  }
  const scheduleDriftMs = k6ScheduleDriftMs(plan, parsed.requests);
  const result: K6LoadResult = {
    requests: parsed.requests,
    scheduleDriftMs,
    scheduleDriftP99Ms: percentileOf(scheduleDriftMs, 0.99),
    k6: {
      k6ExitCode: k6.exitCode,
      signal: k6.exitSignal,
      outcome,
      exitCode,
      droppedIterations: parsed.droppedIterations,
      iterations: parsed.iterations,
      planned: planned.length,
      thresholds: thresholdsOf(summary),
      summary,
      summaryText: readText(stdoutFile).trim(),
      scenario,
      scriptTimedRequests: parsed.requests.filter((r) => r.startFrom === "script").length,
      version: tool.version,
      workDir,
      durationMs: Math.round(performance.now() - started),
    },
  };
  if (!options.keepFiles) fs.rmSync(workDir, { recursive: true, force: true });
  return result;
}

/** Reads a growing file's complete lines; the last read takes a final line without its newline too. */
class LineTail {
  private offset = 0;
  private rest = "";
  private readonly decoder = new StringDecoder("utf8");
  /** One read buffer for the tail's life: it is polled every 500 ms. */
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {}

  read(last = false): void {
    if (!fs.existsSync(this.file)) return;
    const fd = fs.openSync(this.file, "r");
    try {
      for (let n; (n = fs.readSync(fd, this.buffer, 0, this.buffer.length, this.offset)) > 0;) {
        this.offset += n;
        this.rest += this.decoder.write(this.buffer.subarray(0, n));
        const lines = this.rest.split("\n");
        this.rest = lines.pop()!;
        for (const line of lines) this.onLine(line);
      }
    } finally {
      fs.closeSync(fd);
    }
    if (last && this.rest) this.onLine(this.rest);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}
