import fs from "node:fs";
import path from "node:path";
import { CONFIG_FILE, checkDraft, discoverMesh, fetchAnswers, refuseOverwrite, writeDraft } from "../config/discover";
import type { Draft } from "../config/discover";
import { ConfigError } from "../errors";
import { parseCliArgs, runCli } from "./run-cli";

const USAGE = `usage: npm run init -- --prometheus URL --jaeger URL [--edge URL] [--out DIR] [options]
  discovers a running mesh from its telemetry and writes a draft ${CONFIG_FILE} (and contract.json when no built-in
  contract fits), with a comment on every guess. Send some requests through the mesh first: its routes and hops are
  read off the traces Jaeger sampled.
  --prometheus URL     the Prometheus that scrapes the services (http://127.0.0.1:9090)
  --jaeger URL         Jaeger's query API (http://127.0.0.1:16686)
  --edge URL           where the mesh takes requests (default: where its root spans say they were served)
  --out DIR            where to write (default: the current folder)
  --name NAME          the mesh's name (default: the prefix of its request metrics, else its edge's name)
  --traces N           traces read per server operation (default 20)
  --lookback DURATION  how far back traces and series are read: 30m, 2h (default 1h)
  --force              overwrite files that exist
  --save-answers FILE  also write the API answers init read (a discovery can be replayed from them)
exit codes: 0 written, 2 usage error, an API that did not answer, or nothing to discover`;

runCli(async () => {
  const { values } = parseCliArgs(
    {
      prometheus: { type: "string" },
      jaeger: { type: "string" },
      edge: { type: "string" },
      out: { type: "string", default: "." },
      name: { type: "string" },
      traces: { type: "string", default: "20" },
      lookback: { type: "string", default: "1h" },
      force: { type: "boolean", default: false },
      "save-answers": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const prometheusUrl = loopbackUrl("--prometheus", values.prometheus);
  const jaegerUrl = loopbackUrl("--jaeger", values.jaeger);
  const edgeUrl = values.edge === undefined ? undefined : loopbackUrl("--edge", values.edge);
  const tracesPerOperation = Number(values.traces);
  if (!Number.isInteger(tracesPerOperation) || tracesPerOperation < 1)
    throw new ConfigError(`--traces must be a positive integer (got "${values.traces}")\n${USAGE}`);
  const outDir = path.resolve(values.out);
  refuseOverwrite([path.join(outDir, CONFIG_FILE)], values.force);
  const readAt = new Date();
  const answers = await fetchAnswers({
    prometheusUrl,
    jaegerUrl,
    tracesPerOperation,
    lookbackMs: duration(values.lookback),
  });
  if (values["save-answers"]) fs.writeFileSync(values["save-answers"], `${JSON.stringify(answers)}\n`);
  const draft = discoverMesh(answers, {
    ...(edgeUrl ? { edgeUrl } : {}),
    ...(values.name ? { name: values.name } : {}),
    readAt,
  });
  const written = writeDraft(draft, outDir, values.force);
  checkDraft(written.configFile);
  process.stdout.write(summary(draft, written.configFile, written.contractFiles));
  return 0;
});

/** A flag's URL, which must be on this machine (the config's schema accepts loopback URLs only). */
function loopbackUrl(flag: string, value: string | undefined): string {
  if (value === undefined) throw new ConfigError(`${flag} URL is required\n${USAGE}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${flag} ${value} is not a URL (http://127.0.0.1:PORT)`);
  }
  if (!/^https?:$/.test(url.protocol) || !["127.0.0.1", "localhost"].includes(url.hostname))
    throw new ConfigError(
      `${flag} ${value}: meshproof judges meshes on this machine; give a loopback URL (http://127.0.0.1:PORT)`,
    );
  return value.replace(/\/+$/, "");
}

/** "30m", "2h", "90s" in milliseconds. */
function duration(value: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(value);
  if (!match) throw new ConfigError(`--lookback must be a duration like 30m or 2h (got "${value}")`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as "s" | "m" | "h"];
}

/** What was written, what it holds, and the commands to run next. */
function summary(draft: Draft, configFile: string, contractFiles: string[]): string {
  const relative = (file: string) => path.relative(process.cwd(), file);
  const shown = (file: string) => (relative(file).startsWith("..") ? file : relative(file));
  const config = draft.config;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const hops = Object.values(config.routes).reduce((n, r) => n + r.hops.length, 0);
  const { guesses, fillIns } = draft.notes.counts();
  const links = Object.keys(config.links ?? {}).length;
  const file = shown(configFile);
  return `${[
    `wrote ${file}: ${count(Object.keys(config.services).length, "service")}, ${count(Object.keys(config.routes).length, "route")}, ${count(hops, "hop")}, ${count(links, "link")} (${guesses} guessed, ${fillIns} to fill in)`,
    ...contractFiles.map((f) => `wrote ${shown(f)}: the telemetry contract its "contract:" comments explain`),
    "",
    "next: read its // guess: and // fill in: comments, then see the scenarios it binds:",
    `  npm run scenario -- --config ${file} --list`,
    ...(links
      ? ["for link faults, point each caller where this prints:", `  npm run mesh:plan -- --config ${file}`]
      : []),
    "and get a first verdict:",
    `  npm run scenario -- --config ${file} baseline`,
  ].join("\n")}\n`;
}
