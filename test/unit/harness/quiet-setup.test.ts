import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { quietRun } from "../../../harness/tools/provision";

describe("setup output (a build's flood stays in its log file)", () => {
  test("a command's output goes to the file; the terminal gets a start line, a line per interval and nothing else", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshproof-quiet-"));
    const logFile = path.join(dir, "jaeger.log");
    const lines: string[] = [];
    // 300 lines of `go: downloading` over about 0.5 s, on both streams.
    const script =
      'for i in $(seq 1 150); do echo "go: downloading m$i v1"; echo "err $i" >&2; sleep 0.003; done; exit 3';
    const code = await quietRun(
      "sh",
      ["-c", script],
      {},
      {
        label: "jaeger: go build",
        logFile,
        log: (l) => lines.push(l),
        everyMs: 150,
      },
    );
    expect(code).toBe(3);
    expect(lines[0]).toBe(`jaeger: go build… (output in ${logFile})`);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(1)) expect(line).toMatch(/^jaeger: go build: \d+ s so far$/);
    const logged = fs.readFileSync(logFile, "utf8").split("\n");
    expect(logged[0]).toMatch(/^\$ sh -c /);
    expect(logged.filter((l) => l.startsWith("go: downloading"))).toHaveLength(150);
    expect(logged.filter((l) => l.startsWith("err "))).toHaveLength(150);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
