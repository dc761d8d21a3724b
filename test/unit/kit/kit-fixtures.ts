import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { CommonConfig, DefectName } from "../../../services/lib";
import { ServiceKit } from "../../../services/lib";

/** A kit with a temp log file and no admin listener (tests start what they need). */
export function makeKit(defects: DefectName[] = [], name = "unit", overrides: Partial<CommonConfig> = {}): ServiceKit {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-kit-"));
  return new ServiceKit({
    serviceName: name,
    instanceId: `${name}-1`,
    port: 0,
    adminPort: 0,
    adminToken: "x".repeat(32),
    logFile: path.join(dir, `${name}.jsonl`),
    seed: 7,
    defects: new Set(defects),
    heapLimitBytes: 4 * 1024 * 1024 * 1024,
    drainDelayMs: 0,
    ...overrides,
  });
}

/** The value of one sample line on the registry's OpenMetrics page, or undefined when the series is absent. */
export async function sample(kit: ServiceKit, series: string): Promise<number | undefined> {
  const text = await kit.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `) || l.startsWith(`${series} #`));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(" ")[0]);
}

export function baseUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function shutdown(kit: ServiceKit): Promise<void> {
  await kit.shutdown("test");
}
