import { BUILTIN_CONTRACTS, parseContract, type TelemetryContract } from "../../../assertions/contract";
import type { Span } from "../../../assertions/trace-model";
import type { Notes } from "./draft";
import type { Family } from "./metric-families";
import { builtinFit, guessMetrics } from "./metric-guess";
import { describeSeen, readsSeenKeys, spanKeys, type SeenKeys } from "./span-keys";

/** What a service's contract is guessed from: its metric families (when it has a target) and its spans. */
export interface ServiceEvidence {
  service: string;
  families?: ReadonlyMap<string, Family>;
  spans: readonly Span[];
}

/** Each service's `contract` (a built-in's name or a file name) and the contract files to write. */
export interface ContractChoice {
  byService: Record<string, string>;
  files: Record<string, TelemetryContract>;
}

/**
 * A contract per service: a built-in one where its metric names (and span keys) are the service's, else one written
 * from what its series and spans show. Services without metrics only need span keys that read their spans: they
 * share a written contract, or a built-in, that does. Notes next to each `contract:` say why.
 */
export function chooseContracts(services: readonly ServiceEvidence[], name: string, notes: Notes): ContractChoice {
  const mesh = spanKeys(services.flatMap((s) => s.spans)).spans;
  const written: TelemetryContract[] = [];
  const chosen = new Map<string, TelemetryContract | keyof typeof BUILTIN_CONTRACTS>();
  const ordered = [...services].sort((a, b) => Number(!a.families) - Number(!b.families));
  for (const s of ordered) {
    const own = spanKeys(s.spans);
    const spans = {
      ...mesh,
      ...Object.fromEntries(Object.keys(own.seen).map((k) => [k, own.spans[k as "httpMethod"]])),
    };
    const path = ["services", s.service, "contract"];
    const keysNote = `its spans carry ${describeSeen(own.seen)}`;
    const choice = s.families
      ? withMetrics(s.families, own.seen, spans, name, (t) => notes.guess(path, t))
      : withoutMetrics(written, own.seen, spans, name, (t) => notes.guess(path, t));
    if (typeof choice !== "string") {
      const same = written.find((c) => JSON.stringify(c) === JSON.stringify(choice));
      if (!same) written.push(choice);
      chosen.set(s.service, same ?? choice);
    } else chosen.set(s.service, choice);
    notes.guess(path, keysNote);
  }
  const files = new Map(written.map((c, i) => [c, written.length === 1 ? "contract.json" : `contract-${i + 1}.json`]));
  for (const [file, c] of [...files].map(([c, f]) => [f, c] as const)) parseContract(c, file);
  return {
    byService: Object.fromEntries(
      services.map((s) => {
        const c = chosen.get(s.service)!;
        return [s.service, typeof c === "string" ? c : files.get(c)!];
      }),
    ),
    files: Object.fromEntries([...files].map(([c, f]) => [f, c])),
  };
}

function withMetrics(
  families: ReadonlyMap<string, Family>,
  seen: SeenKeys,
  spans: TelemetryContract["spans"],
  name: string,
  say: (text: string) => void,
): TelemetryContract | keyof typeof BUILTIN_CONTRACTS {
  const fit = builtinFit(families);
  if (fit && readsSeenKeys(BUILTIN_CONTRACTS[fit.name].spans, seen)) {
    say(`built-in "${fit.name}": ${fit.why}`);
    if (fit.name !== "otel")
      say(
        `"${fit.name}" also promises x-request-id, /healthz and /readyz bodies, JSON logs and exemplars: if the mesh has none, copy assertions/contracts/${fit.name}.json beside this file and drop them`,
      );
    return fit.name;
  }
  if (fit) {
    say(
      `a contract written beside this file: built-in "${fit.name}"'s metrics (${fit.why}), with the span keys its spans carry`,
    );
    return { ...BUILTIN_CONTRACTS[fit.name], name, spans };
  }
  const guess = guessMetrics(families);
  say(
    "a contract written beside this file: no built-in contract's RED metrics are in its series (otel's, go's, node's)",
  );
  for (const reason of guess.reasons) say(reason);
  const { reasons: _reasons, ...metrics } = guess;
  return { name, up: "up", ...metrics, spans };
}

function withoutMetrics(
  written: readonly TelemetryContract[],
  seen: SeenKeys,
  spans: TelemetryContract["spans"],
  name: string,
  say: (text: string) => void,
): TelemetryContract | keyof typeof BUILTIN_CONTRACTS {
  const shared = written.find((c) => readsSeenKeys(c.spans, seen));
  if (shared) {
    say("no metrics of its own, so only span keys matter: the contract written for the others reads its spans");
    return shared;
  }
  const builtin = (["otel", "go", "node"] as const).find((b) => readsSeenKeys(BUILTIN_CONTRACTS[b].spans, seen));
  if (builtin) {
    say(`built-in "${builtin}": no metrics of its own, only span keys matter, and "${builtin}"'s read its spans`);
    return builtin;
  }
  say("a contract written beside this file: no metrics of its own (otel's names stand in), with its spans' keys");
  return { ...BUILTIN_CONTRACTS.otel, name, spans };
}
