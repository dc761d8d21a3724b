/**
 * Root-cause localisation: where the time or the errors came from, judged from the evidence alone (no fault journal:
 * that is what score.ts scores it against). Pure: no I/O, no clock. Stages: windows.ts (where a route moved),
 * suspects.ts and endpoints.ts (what the move is put down to), runtime.ts (each suspect's runtime).
 */

export { RcaContext, suspectKey } from "./context";
export type { Identity } from "./context";
export { localize } from "./localize";
export type { RcaResult, RcaWindow, RouteStats, RuntimeCompare, RuntimeWindow, Suspect, SuspectRuntime } from "./model";
export { randomHitChance, ruleBasedRanking } from "./baselines";
export { binomialTail } from "./numbers";
export type { RcaOptions } from "./options";
export { describeSuspect, faultRanking, faultTargetService, rcaScoreLine, scoreLocalization } from "./score";
export type { BaselineScore, RcaMiss, RcaScore, ScoredRun } from "./score";
export { selfTimeUs } from "./suspects";
