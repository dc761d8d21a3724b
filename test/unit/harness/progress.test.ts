import { Progress, type ProgressStream } from "../../../harness/report/reporters/progress";

function stream(isTTY: boolean): ProgressStream & { text: string } {
  const out = { text: "", isTTY, columns: 120, write: (s: string) => (out.text += s) };
  return out;
}

const at = (sent: number, failed: number, faults: string[] = []) => ({
  scenario: "load",
  planned: 6_000,
  sent,
  failed,
  faults,
});

describe("live progress", () => {
  test("on a terminal: one line redrawn in place with the bar, counts and fault, cleared before a log line", () => {
    const out = stream(true);
    const progress = new Progress(out);
    progress.phase("load", "steady state");
    progress.load(at(3_000, 12, ["link-down orders-redis"]));
    expect(out.text).toContain("\r\x1b[2K  load: steady state…");
    expect(out.text).toContain(
      "\r\x1b[2K  load: load [##########----------] 3,000/6,000 requests sent, 12 failed, fault link-down orders-redis",
    );
    expect(out.text).not.toContain("\n");
    progress.log("  load: load 30000 ms");
    expect(out.text.endsWith("\r\x1b[2K  load: load 30000 ms\n")).toBe(true);
  });

  test("on a terminal, scenarios running at once (--workers) share the line; one that left its load leaves it", () => {
    const out = stream(true);
    out.columns = 200;
    const progress = new Progress(out);
    progress.load({ scenario: "baseline", planned: 400, sent: 100, failed: 0, faults: [] });
    progress.load({ scenario: "leaf-errors", planned: 400, sent: 200, failed: 7, faults: ["error payments"] });
    expect(out.text.split("\r\x1b[2K").pop()).toBe(
      "  load: baseline 25% 0 failed | leaf-errors 50% 7 failed fault error payments",
    );
    progress.phase("baseline", "quiesce and collect");
    progress.load({ scenario: "leaf-errors", planned: 400, sent: 300, failed: 9, faults: [] });
    expect(out.text.split("\r\x1b[2K").pop()).toMatch(
      /^  leaf-errors: load \[#{15}-{5}\] 300\/400 requests sent, 9 failed/,
    );
  });

  test("on a terminal the line never wraps: it is cut to the width", () => {
    const out = stream(true);
    out.columns = 40;
    new Progress(out).load(at(1, 0, ["latency inventory/Reserve"]));
    const line = out.text.split("\r\x1b[2K").pop()!;
    expect(line.length).toBe(39);
    expect(line.endsWith("…")).toBe(true);
  });

  test("elsewhere: plain lines, no escape codes, one per interval and one when the faults in place change", () => {
    const out = stream(false);
    let now = 0;
    const progress = new Progress(out, { plainEveryMs: 10_000, now: () => now });
    progress.phase("load", "load");
    progress.load(at(100, 0));
    now = 5_000;
    progress.load(at(1_000, 0)); // within the interval, same faults: not printed
    now = 6_000;
    progress.load(at(1_200, 3, ["link-down orders-redis"])); // a fault began
    now = 17_000;
    progress.load(at(3_000, 40, ["link-down orders-redis"])); // the interval passed
    progress.log("  load: load 30000 ms");
    expect(out.text.split("\n")).toEqual([
      "  load: load 100/6,000 requests sent, 0 failed, no fault",
      // The rate since the load began (at 0) and the time its plan has left at that rate.
      "  load: load 1,200/6,000 requests sent, 3 failed, 200 req/s, 24 s left, fault link-down orders-redis",
      "  load: load 3,000/6,000 requests sent, 40 failed, 176 req/s, 17 s left, fault link-down orders-redis",
      "  load: load 30000 ms",
      "",
    ]);
  });

  test("each scenario starts with [i/N], the run's elapsed time and an ETA from the scenarios done so far", () => {
    const out = stream(false);
    let now = 1_000;
    const progress = new Progress(out, { now: () => now });
    progress.scenarioBegin({ name: "baseline", index: 0, total: 3 });
    now = 11_000;
    progress.scenarioEnd("baseline", "  baseline: PASSED in 10000 ms");
    progress.scenarioBegin({ name: "load", index: 1, total: 3 });
    now = 81_000;
    progress.scenarioEnd("load", "  load: PASSED in 70000 ms");
    progress.scenarioBegin({ name: "sampling", index: 2, total: 3 });
    expect(out.text.split("\n")).toEqual([
      "[1/3] baseline (elapsed 0 s, ETA -)",
      "  baseline: PASSED in 10000 ms",
      "[2/3] load (elapsed 10 s, ETA 20 s)",
      "  load: PASSED in 70000 ms",
      "[3/3] sampling (elapsed 1m20s, ETA 40 s)",
      "",
    ]);
  });

  test("on GitHub Actions each scenario is a collapsible group, closed when it ends and when the run ends", () => {
    const out = stream(false);
    const progress = new Progress(out, { ci: "github", now: () => 0 });
    progress.scenarioBegin({ name: "baseline", index: 0, total: 2 });
    progress.log("  baseline: load 8000 ms");
    progress.scenarioEnd("baseline", "  baseline: PASSED in 9000 ms");
    progress.scenarioBegin({ name: "load", index: 1, total: 2 });
    progress.end();
    expect(out.text.split("\n")).toEqual([
      "::group::[1/2] baseline (elapsed 0 s, ETA -)",
      "  baseline: load 8000 ms",
      "  baseline: PASSED in 9000 ms",
      "::endgroup::",
      "::group::[2/2] load (elapsed 0 s, ETA 0 s)",
      "::endgroup::",
      "",
    ]);
  });
});
