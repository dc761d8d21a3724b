import { parentPort, workerData } from "node:worker_threads";
import { TraceCache } from "../../assertions/run-view";
import type { SavedScenario } from "../report/evidence-file";
import { readEvidenceFile } from "../report/evidence-file";
import { mutantsOf, unjudgeable } from "./engine";
import { OPERATORS } from "./operators";
import type { PoolItem, PoolWorkerInput, PoolWorkerMessage } from "./pool";

// A worker of mutateInWorkers(): reads the evidence file, then judges the items it is sent, one at a time.
const input = workerData as PoolWorkerInput;
const post = (message: PoolWorkerMessage) => parentPort!.postMessage(message);

let scenarios: SavedScenario[] = [];
try {
  scenarios = readEvidenceFile(input.file).scenarios;
  post({
    type: "ready",
    scenarios: scenarios.map((s) => ({
      name: s.name,
      size:
        s.evidence.requests.length + Object.values(s.evidence.traces).reduce((n, t) => n + (t?.spans.length ?? 0), 0),
    })),
  });
} catch (error) {
  post({ type: "error", message: (error as Error).message });
}

// A scenario whose own evidence fails is judged once per worker, and none of its mutants is.
const reasons = new Map<number, string | undefined>();
const cache = new TraceCache();
parentPort!.on("message", (item: PoolItem) => {
  const scenario = scenarios[item.scenario]!;
  if (!reasons.has(item.scenario)) reasons.set(item.scenario, unjudgeable(scenario, cache));
  const skipped = reasons.get(item.scenario);
  post({
    type: "done",
    item,
    results: skipped ? [] : mutantsOf(scenario, OPERATORS[item.operator]!, input, cache),
    ...(skipped ? { skipped } : {}),
  });
});
