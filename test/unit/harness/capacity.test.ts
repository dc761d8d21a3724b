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

  test("minRequests holds the last stage longer on a smaller machine (at most twice), never shorter on a bigger one", () => {
    const small = atCapacity(load, 100);
    // 5 s ramp 10 -> 70 (200 requests) + 25 s at 70 (1750): 3550 more requests at 70/s would be 50715 ms more;
    // the stage is held at most twice as long.
    expect(small.load.stages!.at(-1)!.durationMs).toBe(25_000 + 25_000);
    expect(small.load.durationMs).toBe(small.load.stages!.at(-1)!.durationMs);
    expect(atCapacity(load, 1_000).load.durationMs).toBe(25_000);
  });

  test("a fault scenario on a mesh under twice its rate is slowed to half the capacity, every time with it", () => {
    const errors = loadCatalog().find((s) => s.faults.length > 0)!;
    expect(errors.load.maxShareOfCapacity).toBe(0.5);
    expect(atCapacity(errors, 40)).toBe(errors);
    const requests = (s: typeof errors) => (s.load.ratePerSec * (s.load.warmupMs + s.load.durationMs)) / 1000;
    // 20 req/s on a mesh of 10: at 5 req/s, 4 times slower, as many requests.
    const slower = atCapacity(errors, 10);
    expect(slower.load).toMatchObject({ ratePerSec: 5, warmupMs: 6_000, durationMs: 26_000 });
    expect(slower.faults.map((f) => [f.atMs, f.durationMs])).toEqual(
      errors.faults.map((f) => [f.atMs * 4, f.durationMs * 4]),
    );
    expect(requests(slower)).toBe(requests(errors));
    // On a mesh of 3.3: at 1.6 req/s (half, to a tenth), still only 4 times slower: fewer requests.
    const slowest = atCapacity(errors, 3.3);
    expect(slowest.load).toMatchObject({ ratePerSec: 1.6, warmupMs: 6_000, durationMs: 26_000 });
    expect(requests(slowest)).toBe(51.2);
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
