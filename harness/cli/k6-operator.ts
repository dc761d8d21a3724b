import fs from "node:fs";
import path from "node:path";
import { loadCatalog, selectScenarios } from "../../scenarios";
import { parseCliArgs, runCli } from "./run-cli";
import { ConfigError } from "../errors";
import { k6OperatorManifests, mergeK6Outputs, readRunnerOutputs } from "../load/k6-operator";
import type { LoadPlan } from "../load/load-plan";
import { MESH_ROUTES } from "../load/routes";

const USAGE = `usage: npm run k6:operator -- --parallelism N [--out DIR] [options]
       npm run k6:operator -- --merge DIR|FILE... [--out FILE]
  --parallelism N     k6 runner pods (k6-operator TestRun .spec.parallelism)
  --out DIR           where meshproof-k6.json goes (default k6-operator); with --merge, the merged request log
                      (default request-log.json)
  --scenario NAME     take the load (rate, warm-up + duration, routes) from this catalog scenario (default baseline)
  --rate N            override the arrival rate (req/s)
  --duration-ms N     override the duration
  --seed N            seeds the route mix and traceparent modes (default 1)
  --base-url URL      the edge as runner pods reach it (default http://gateway:8080)
  --name NAME         TestRun name; the ConfigMap and results claim are named after it (default meshproof-load)
  --namespace NS      namespace of the three objects (default: kubectl's)
  --merge             merge runners' k6-output-*.json (directories or files) into one request log`;

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ConfigError(`--${name} must be a number (got "${value}")\n${USAGE}`);
  return n;
}

runCli(async () => {
  const { values, positionals } = parseCliArgs(
    {
      parallelism: { type: "string" },
      out: { type: "string" },
      scenario: { type: "string", default: "baseline" },
      rate: { type: "string" },
      "duration-ms": { type: "string" },
      seed: { type: "string", default: "1" },
      "base-url": { type: "string", default: "http://gateway:8080" },
      name: { type: "string" },
      namespace: { type: "string" },
      merge: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  if (values.merge) {
    const requests = mergeK6Outputs(readRunnerOutputs(positionals));
    const out = path.resolve(values.out ?? "request-log.json");
    fs.writeFileSync(out, `${JSON.stringify(requests, null, 1)}\n`);
    process.stdout.write(`${requests.length} requests from ${positionals.join(", ")} -> ${out}\n`);
    return 0;
  }

  const parallelism = numberFlag("parallelism", values.parallelism);
  if (parallelism === undefined) throw new ConfigError(`--parallelism is required\n${USAGE}`);
  const [scenario] = selectScenarios(loadCatalog(), [values.scenario]);
  if (!scenario) throw new ConfigError(`unknown scenario "${values.scenario}"`);
  const plan: LoadPlan = {
    ratePerSec: numberFlag("rate", values.rate) ?? scenario.load.ratePerSec,
    durationMs: numberFlag("duration-ms", values["duration-ms"]) ?? scenario.load.warmupMs + scenario.load.durationMs,
    routes: scenario.load.routes,
    seed: numberFlag("seed", values.seed)!,
  };
  const name = values.name ?? "meshproof-load";
  const manifests = k6OperatorManifests(plan, MESH_ROUTES, {
    parallelism,
    baseUrl: values["base-url"],
    name,
    namespace: values.namespace,
  });
  const dir = path.resolve(values.out ?? "k6-operator");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "meshproof-k6.json");
  fs.writeFileSync(file, `${JSON.stringify(manifests, null, 2)}\n`);
  process.stdout.write(
    `${file}: ConfigMap, PersistentVolumeClaim and TestRun "${name}" ` +
      `(${parallelism} runners, ${plan.ratePerSec} req/s for ${plan.durationMs} ms, scenario ${scenario.name})\n` +
      `apply: kubectl apply -f ${path.relative(process.cwd(), file)}\n`,
  );
  return 0;
});
