/**
 * A Jest reporter that prints, after the run, the 10 slowest tests and the suite's wall time: where `npm test`
 * spends its minutes, in every run's output. Last of all, when the process exits (after Jest's own summary), one
 * plain line `tests: N passed, N failed, N skipped`: the closing line CI reads to know that tests ran.
 */
interface TestResultLike {
  testFilePath: string;
  testResults: { fullName: string; duration?: number | null; status: string }[];
}
interface AggregatedLike {
  startTime: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: TestResultLike[];
}

const SHOWN = 10;

class SlowestReporter {
  onRunComplete(_contexts: unknown, results: AggregatedLike): void {
    const tests = results.testResults.flatMap((file) =>
      file.testResults.map((t) => ({
        ms: t.duration ?? 0,
        name: t.fullName,
        file: file.testFilePath.replace(/^.*\/dist\/test\//, "test/").replace(/\.js$/, ".ts"),
      })),
    );
    const slowest = tests.sort((a, b) => b.ms - a.ms).slice(0, SHOWN);
    const lines = slowest.map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.file}: ${t.name}`);
    const wallS = (Date.now() - results.startTime) / 1000;
    process.stderr.write(
      `\n${SHOWN} slowest tests:\n${lines.join("\n")}\n${results.numTotalTests} tests in ${wallS.toFixed(0)} s (${Math.floor(wallS / 60)} min ${Math.round(wallS % 60)} s)\n`,
    );
    const skipped = results.numPendingTests + results.numTodoTests;
    const closing = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    process.once("exit", () => process.stdout.write(closing));
  }
}

module.exports = SlowestReporter;
