import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { atCapacity, capacityFile, capacityKey, storeCapacity, storedCapacity } from "../../../harness/load/capacity";
import { loadCatalog } from "../../../scenarios/lib/loader";

const load = loadCatalog().find((s) => s.name === "load")!;

describe("load at a share of the measured capacity", () => {
  test("every rate is the share times the capacity; other scenarios are left as they are", () => {
    const scaled = atCapacity(load, 335);
    expect(scaled.load).toMatchObject({ rateUnit: "req/s", ratePerSec: 34, durationMs: 25_000 });
    expect(scaled.load.stages!.map((s) => s.targetRatePerSec)).toEqual([234, 234]); // 0.7 x 335 = 234.5, rounded (floating point: 234.49...)
    const fixed = { load: { ratePerSec: 20, durationMs: 1_000 } };
    expect(atCapacity(fixed, 335)).toBe(fixed);
  });

  test("minRequests holds the last stage longer on a smaller machine, never shorter on a bigger one", () => {
    const small = atCapacity(load, 100);
    // 5 s ramp 10 -> 70 (200 requests) + 25 s at 70 (1750): 5300 more requests at 70/s is 75715 ms more.
    expect(small.load.stages!.at(-1)!.durationMs).toBe(25_000 + Math.ceil(((5_500 - 1_950) / 70) * 1000));
    expect(small.load.durationMs).toBe(small.load.stages!.at(-1)!.durationMs);
    expect(atCapacity(load, 1_000).load.durationMs).toBe(25_000);
  });

  test("a fault scenario on a mesh under twice its rate is slowed to half the capacity, every time with it", () => {
    const errors = loadCatalog().find((s) => s.faults.length > 0)!;
    expect(errors.load.maxShareOfCapacity).toBe(0.5);
    expect(atCapacity(errors, 40)).toBe(errors);
    const slow = atCapacity(errors, 3.3);
    // 20 req/s over 1.65 req/s (half of 3.3, to a tenth: 1.6) is 12.5 times slower.
    expect(slow.load).toMatchObject({ ratePerSec: 1.6, warmupMs: 18_750, durationMs: 81_250 });
    expect(slow.faults.map((f) => [f.atMs, f.durationMs])).toEqual(
      errors.faults.map((f) => [f.atMs * 12.5, f.durationMs * 12.5]),
    );
    const requests = (s: typeof errors) => (s.load.ratePerSec * (s.load.warmupMs + s.load.durationMs)) / 1000;
    expect(requests(slow)).toBe(requests(errors));
  });

  test("a capacity is stored per machine and mesh; MESHPROOF_CAPACITY pins one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-capacity-"));
    const saved = { cache: process.env.MESHPROOF_TOOL_CACHE, pinned: process.env.MESHPROOF_CAPACITY };
    process.env.MESHPROOF_TOOL_CACHE = path.join(dir, "tools");
    delete process.env.MESHPROOF_CAPACITY;
    try {
      const key = capacityKey("sample mesh (native processes)");
      expect(key.key).toContain(`${os.availableParallelism()}x `);
      expect(storedCapacity(key.key)).toBeUndefined();
      storeCapacity({ ...key, ratePerSec: 300, measuredAt: "now", p99BoundMs: 250, stepMs: 5000, steps: [] });
      expect(capacityFile()).toBe(path.join(dir, "capacity.json"));
      expect(storedCapacity(key.key)).toMatchObject({ ratePerSec: 300 });
      expect(storedCapacity(capacityKey("sample mesh (containers)").key)).toBeUndefined();
      process.env.MESHPROOF_CAPACITY = "120";
      expect(storedCapacity(key.key)).toEqual({ ratePerSec: 120, measuredAt: "MESHPROOF_CAPACITY" });
      process.env.MESHPROOF_CAPACITY = "fast";
      expect(() => storedCapacity(key.key)).toThrow('MESHPROOF_CAPACITY must be a rate > 0 (got "fast")');
    } finally {
      for (const [name, value] of [
        ["MESHPROOF_TOOL_CACHE", saved.cache],
        ["MESHPROOF_CAPACITY", saved.pinned],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
