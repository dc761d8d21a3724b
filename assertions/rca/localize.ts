import type { Evidence } from "../evidence";
import { RcaContext } from "./context";
import type { RcaResult } from "./model";
import { DEFAULTS, type RcaOptions } from "./options";
import { detectRuntimeWindows } from "./runtime-windows";
import { rankSuspects } from "./suspects";
import { detectWindows } from "./windows";

/** Localises every window of one scenario's evidence. */
export function localize(evidence: Evidence, options: RcaOptions = {}): RcaResult {
  const o = { ...DEFAULTS, ...options };
  const ctx = new RcaContext(evidence, options.topology);
  const notes: string[] = [];
  const red = ctx.redSeries();
  if (red.length === 0)
    notes.push(
      "evidence.metrics.range holds no RED histogram series (_count/_sum): suspects are ranked from traces alone",
    );
  const missingRuntime = new Set(evidence.services.flatMap((s) => ctx.runtimeMissing(s)));
  if (missingRuntime.size > 0)
    notes.push(`evidence.metrics.range holds no ${[...missingRuntime].sort().join(", ")}: not attached to suspects`);
  const detected = detectWindows(evidence, o);
  for (const d of detected) d.window.suspects = rankSuspects(ctx, d, red, o);
  return { windows: detected.map((d) => d.window), runtimeWindows: detectRuntimeWindows(ctx, o), notes };
}
