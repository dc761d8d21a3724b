import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { startAdminServer, type AdminServer } from "./admin";
import type { CommonConfig } from "./config";
import type { DefectName } from "./defects";
import { FaultRegistry } from "./faults";
import { createLogger, type Logger } from "./logger";
import { createMetrics, openMetricsToText, type MeshMetrics } from "./metrics";
import { livenessChecks, runChecks, type Check, type ProbeResult } from "./probes";
import { telemetry } from "./telemetry-handle";

/** SIGTERM must end the process within this; the kit leaves margin under the harness's 5 s. */
export const SHUTDOWN_DEADLINE_MS = 4_500;

/**
 * Everything a mesh service shares: metrics registry, logger, fault registry, probes, admin API and the shutdown
 * sequence. Services build their listeners with http-kit / grpc-kit on top of it.
 */
export class ServiceKit {
  readonly metrics: MeshMetrics;
  readonly logger: Logger;
  readonly faults: FaultRegistry;
  readonly defects: ReadonlySet<DefectName>;
  /** Readiness checks by name; services add theirs before listening. */
  readonly readiness: Record<string, Check> = {};
  private readonly liveness: Record<string, Check>;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly flushLog: () => void;
  private admin: AdminServer | undefined;
  private shuttingDown: Promise<void> | undefined;
  /** Resolved once the listeners have drained on shutdown (the admin API closes after it). */
  private drain: () => void = () => {};
  private readonly drained = new Promise<void>((resolve) => (this.drain = resolve));
  draining = false;

  constructor(readonly config: CommonConfig) {
    this.defects = config.defects;
    this.metrics = createMetrics({ defects: config.defects });
    const { logger, flush } = createLogger(config.serviceName, config.logFile);
    this.logger = logger;
    this.flushLog = flush;
    this.faults = new FaultRegistry(config.seed, (kind, target) => this.metrics.faultsInjected.inc({ kind, target }), {
      serviceName: config.serviceName,
    });
    this.liveness = livenessChecks({ heapLimitBytes: config.heapLimitBytes });
    // healthz-ignores-stall: liveness checks the heap only; a blocked event loop goes unreported.
    if (this.has("healthz-ignores-stall")) delete this.liveness.eventLoop;
  }

  has(defect: DefectName): boolean {
    return this.defects.has(defect);
  }

  /** Adds a liveness check (local state only; a dependency here makes an outage restart healthy processes). */
  addLivenessCheck(name: string, check: Check): void {
    this.liveness[name] = check;
  }

  healthz(): Promise<ProbeResult> {
    return runChecks(this.liveness);
  }

  async readyz(): Promise<ProbeResult> {
    if (this.draining) {
      return {
        httpStatus: 503,
        body: { status: "fail", checks: { draining: { status: "fail", latencyMs: 0, error: "shutting down" } } },
      };
    }
    return runChecks(this.readiness);
  }

  /** Starts the admin API (127.0.0.1, bearer token) and installs the SIGTERM/SIGINT handler. */
  async start(): Promise<void> {
    this.admin = await startAdminServer({
      port: this.config.adminPort,
      token: this.config.adminToken,
      faults: this.faults,
      // Quiesce: every finished span exported and every buffered log line on disk before the harness reads them.
      flush: async () => {
        await telemetry().flush();
        this.flushLog();
      },
      telemetry: () => telemetry().stats(),
      finalMetrics: async () => {
        await this.drained;
        return openMetricsToText(await this.metrics.registry.metrics());
      },
    });
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => {
        // no-drain: the process flushes its telemetry and exits, no readiness 503 first and no drain: calls in
        // flight die with it (the common `await sdk.shutdown(); process.exit()` handler).
        if (this.has("no-drain"))
          return void telemetry()
            .shutdown()
            .catch(() => {})
            .finally(() => {
              this.flushLog();
              process.exit(0);
            });
        void this.shutdown(signal).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }

  /** Registers a closer run on shutdown, in reverse order of registration (listeners before their clients). */
  onShutdown(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  /**
   * Drains: readiness fails while the listeners still serve for the drain delay (callers that watch it stop sending),
   * then the listeners stop accepting and finish in-flight work, spans flush, logs flush.
   */
  shutdown(reason: string): Promise<void> {
    this.shuttingDown ??= (async () => {
      // Resource faults first: a blocked event loop or a burning thread would slow the drain it is about to do.
      const reverted = this.faults.revertResources();
      this.draining = true;
      this.logger.info({ reason, revertedResourceFaults: reverted }, "shutting down");
      const hardStop = setTimeout(() => {
        this.logger.error("shutdown deadline passed; exiting");
        this.flushLog();
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      hardStop.unref();
      await sleep(this.config.drainDelayMs);
      for (const close of [...this.closers].reverse()) {
        try {
          await close();
        } catch (error) {
          this.logger.warn({ err: error }, "a closer failed during shutdown");
        }
      }
      // The admin API last: it answers the harness's request for the counters' final values first.
      this.drain();
      await this.admin?.close();
      await telemetry()
        .shutdown()
        .catch(() => {});
      this.logger.info("stopped");
      this.flushLog();
      clearTimeout(hardStop);
    })();
    return this.shuttingDown;
  }
}

/** Closes an HTTP server: stops accepting, lets in-flight requests finish (up to graceMs), then cuts the rest. */
export async function closeHttpServer(server: Server, graceMs = 3_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timedOut = await Promise.race([closed.then(() => false), sleep(graceMs, true, { ref: false })]);
  if (timedOut) {
    server.closeAllConnections();
    await closed;
  }
}
