import type { AssertionResult } from "../../assertions/evidence";
import { groupFailures, HINTS } from "../../assertions/explain";
import type { RcaScore, Suspect, SuspectRuntime } from "../../assertions/rca";
import type { ProbeLane } from "./probe-timeline";
import type { ReconTable } from "./reconciliation-tables";
import type { ReportModel } from "./report-model";
import type { RequestRow } from "./report-traces";
import { NO_RESPONSE_COLOR, STATUS_COLORS } from "./report-charts";
import type { FailedAssertionView, RcaWindowView, ScenarioView } from "./scenario-view";
import { ALL_FAMILIES } from "../../assertions/evidence";
import { statusCounts, type Verdict } from "./verdict";

/** What the page inlines: the chart library (from node_modules) and the client script, read when generating. */
export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
  clientJs: string;
}

/** report.html: one self-contained page (no external request), data in, HTML string out. */
export function renderReport(model: ReportModel, assets: ReportAssets): string {
  const v = model.verdict;
  const status = overallStatus(v);
  // Failures first: a scenario that did not pass is what a reader opens the page for.
  const order = [...model.scenarios].sort((a, b) => rankStatus(a) - rankStatus(b));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>meshproof ${esc(status)} — ${esc(v.run.id)}</title>
<style>${assets.uplotCss}
${CSS}</style>
</head>
<body>
<header class="top ${status.toLowerCase()}">
<h1>meshproof <span class="badge ${status.toLowerCase()}">${status}</span></h1>
<p class="sub">run ${esc(v.run.id)} · started ${esc(v.run.startedAt)} · ${seconds(v.run.durationMs)}</p>
</header>
${toolbar(model)}
<main>
${summary(model, order)}
${order.map(scenarioSection).join("\n")}
</main>
<script type="application/json" id="report-data">${jsonForScript(model.client)}</script>
<script>${scriptText(assets.uplotJs)}</script>
<script>${scriptText(assets.clientJs)}</script>
</body>
</html>
`;
}

/**
 * The sticky toolbar: filters by scenario status and by the family of a failed assertion, each with its count, and a
 * search over the scenario names, assertion ids and the request and trace ids the page shows (report-client.js).
 */
function toolbar(model: ReportModel): string {
  const scenarios = model.verdict.scenarios;
  const byStatus = new Map<string, number>();
  for (const s of scenarios) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
  const statuses = [["all", scenarios.length] as const, ...[...byStatus].sort(([a], [b]) => rank(a) - rank(b))];
  const buttons = statuses
    .map(
      ([status, n]) =>
        `<button type="button" data-status-filter="${status}"${status === "all" ? ' aria-pressed="true"' : ""}>${status} <b>${n}</b></button>`,
    )
    .join("");
  const failedIn = (family: string) =>
    scenarios.filter((s) => s.assertions.some((a) => a.family === family && a.status === "failed")).length;
  const families = ALL_FAMILIES.map((f) => `<option value="${f}">${f} (failed in ${failedIn(f)})</option>`).join("");
  return `<nav class="toolbar" aria-label="filter scenarios">
<span class="filters">${buttons}</span>
<select id="family-filter" aria-label="family"><option value="">every family</option>${families}</select>
<input id="search" type="search" placeholder="scenario, assertion, request or trace id" aria-label="search">
<span id="shown">${scenarios.length} of ${scenarios.length} scenarios</span>
<a href="#summary">summary</a>
</nav>`;
}

function rank(status: string): number {
  return ["failed", "inconclusive", "aborted", "not-applicable", "passed"].indexOf(status);
}

/** The summary's line when nothing failed: every assertion passed, or every judged one, and how many were not promised. */
function notPromisedNote(v: Verdict): string {
  const c = statusCounts(v.scenarios.flatMap((s) => s.assertions));
  if (c.notPromised === 0) return "Every assertion passed.";
  return `Every judged assertion passed (${c.passed}); ${c.notPromised} not promised by the mesh.`;
}

/** A family's cell: passed/judged, then the assertions not promised; judged and failed ones make it bad. */
function familyCell(c: ReturnType<typeof statusCounts>): string {
  const np = c.notPromised ? ` <small title="not promised">+${c.notPromised} np</small>` : "";
  return `<td class="${c.failed ? "bad" : c.judged ? "ok" : "na"}">${c.passed}/${c.judged}${np}</td>`;
}

function rankStatus(s: ScenarioView): number {
  return s.verdict.status === "passed" ? 2 : s.verdict.status === "failed" ? 0 : 1;
}

function overallStatus(
  v: Verdict,
): "PASSED" | "FAILED" | "INCONCLUSIVE" | "ABORTED" | "INTERRUPTED" | "NOT-APPLICABLE" {
  if (v.run.interrupted) return "INTERRUPTED";
  if (v.scenarios.some((s) => s.status === "aborted")) return "ABORTED";
  if (v.scenarios.some((s) => s.status === "failed")) return "FAILED";
  if (v.scenarios.some((s) => s.status === "inconclusive")) return "INCONCLUSIVE";
  // Not-applicable scenarios are never counted as passed: a run none of which could be judged passed nothing.
  return v.scenarios.some((s) => s.status === "passed") ? "PASSED" : "NOT-APPLICABLE";
}

/** The command that runs the same scenarios the same way (the verdict's, or rebuilt from what it records). */
export function reproduceCommand(v: Verdict): string {
  if (v.run.command) return v.run.command;
  const names = v.scenarios.map((s) => s.name).join(" ");
  const defects = v.run.defects?.length ? ` --defects ${v.run.defects.join(",")}` : "";
  return `npm run scenario -- ${names} --seed ${v.run.seed} --backend ${v.run.backend}${defects}`;
}

function summary(model: ReportModel, order: ScenarioView[]): string {
  const v = model.verdict;
  const families = ALL_FAMILIES.filter((f) => v.scenarios.some((s) => s.assertions.some((a) => a.family === f)));
  const familyTotals = families.map((f) =>
    statusCounts(v.scenarios.flatMap((s) => s.assertions.filter((a) => a.family === f))),
  );
  const rows = order.map((s) => {
    const cells = families.map((f) => {
      const of = s.verdict.assertions.filter((a) => a.family === f);
      if (of.length === 0) return `<td class="na">-</td>`;
      return familyCell(statusCounts(of));
    });
    return `<tr><th><a href="#${anchor(s.verdict.name)}">${esc(s.verdict.name)}</a></th>${cells.join("")}<td><span class="badge ${s.verdict.status}">${s.verdict.status.toUpperCase()}</span></td><td class="num">${seconds(s.verdict.durationMs)}</td></tr>`;
  });
  const totals = `<tr class="totals"><th>all families</th>${familyTotals.map(familyCell).join("")}<td></td><td></td></tr>`;
  // Failures first and in one line each: the one that explains others, with how many it explains.
  const failures = order.flatMap((s) =>
    groupFailures(s.verdict.assertions).map(
      ({ cause: a, consequences }) =>
        `<li><a href="#${anchor(s.verdict.name, a.id)}">${esc(s.verdict.name)} ${esc(a.id)}</a>: ${esc(a.headline ?? a.message)}${consequences.length ? ` <small>(explains ${consequences.map((c) => esc(c.assertion.id)).join(", ")})</small>` : ""}</li>`,
    ),
  );
  const aborted = order
    .filter((s) => s.verdict.status === "aborted")
    .map((s) => `<li>${esc(s.verdict.name)} ABORTED: ${esc(s.verdict.abortReason ?? "")}</li>`)
    .concat(
      order.flatMap((s) =>
        s.verdict.groundTruth.faults
          .filter((f) => f.effect && !f.effect.observed)
          .map(
            (f) =>
              `<li>${esc(s.verdict.name)} INCONCLUSIVE: ${esc(f.kind)} on ${esc(f.target)} without its effect: ${esc(f.effect!.detail)}</li>`,
          ),
      ),
    );
  const tools = Object.entries(v.run.tools)
    .map(([name, version]) => `<li><b>${esc(name)}</b> ${esc(version)}</li>`)
    .join("");
  return `<section class="summary" id="summary">
<h2>Run summary</h2>
<div class="summary-grid">
<div>
<table class="families">
<thead><tr><th>scenario</th>${families.map((f) => `<th>${esc(f)}</th>`).join("")}<th>status</th><th>time</th></tr></thead>
<tbody>${rows.join("\n")}${totals}</tbody>
</table>
${failures.length + aborted.length > 0 ? `<h3>Failures</h3><ul class="failures">${[...aborted, ...failures].join("")}</ul>` : `<p class="ok-note">${notPromisedNote(v)}</p>`}
</div>
<div>
<dl class="meta">
<dt>backend</dt><dd>${esc(v.run.backend)}</dd>
<dt>seed</dt><dd>${v.run.seed}</dd>
<dt>defects</dt><dd>${v.run.defects?.length ? esc(v.run.defects.join(", ")) : v.run.defects ? "none" : "not recorded"}</dd>
<dt>tools</dt><dd><ul class="tools">${tools}</ul></dd>
</dl>
<p>Reproduce:</p>
<pre class="command"><code>${esc(reproduceCommand(v))}</code></pre>
</div>
</div>
${v.rca ? rcaScoreBlock(v.rca) : ""}
</section>`;
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : `${Math.round(v * 100)}%`;
}

function rcaScoreBlock(score: RcaScore): string {
  const kinds = Object.entries(score.byKind)
    .map(
      ([kind, k]) =>
        `<tr><th>${esc(kind)}</th><td class="num">${k.faults}</td><td class="num">${pct(k.ac1)}</td><td class="num">${pct(k.ac3)}</td><td class="num">${pct(k.avg5)}</td><td class="num">${pct(score.baselines?.ruleBased?.byKind[kind]?.ac1)}</td><td class="num">${pct(score.baselines?.random.byKind[kind]?.ac1)}</td></tr>`,
    )
    .join("");
  const misses = score.misses
    .map(
      (m) =>
        `<li><b>${esc(m.scenario)}</b> ${esc(m.kind)} on ${esc(m.target)} (expected ${esc(m.expected)}, ranked ${m.rank ?? "nowhere"}): ${esc(m.reason)}${m.ranking.length ? `<br><small>${m.ranking.map(esc).join(" · ")}</small>` : ""}</li>`,
    )
    .join("");
  return `<div class="rca-score">
<h3>Root-cause localisation against the fault journal</h3>
<p>AC@1 <b>${pct(score.ac1)}</b> · AC@3 <b>${pct(score.ac3)}</b> · Avg@5 <b>${pct(score.avg5)}</b> over ${score.faults} fault(s); ${score.unexplainedWindows.length} window(s) overlap no fault.</p>
${kinds ? `<table class="small"><thead><tr><th>fault kind</th><th>faults</th><th>AC@1</th><th>AC@3</th><th>Avg@5</th><th>rule-based AC@1</th><th>random AC@1</th></tr></thead><tbody>${kinds}</tbody></table>` : ""}
${misses ? `<p>Misses:</p><ul class="misses">${misses}</ul>` : ""}
</div>`;
}

function scenarioSection(s: ScenarioView): string {
  const v = s.verdict;
  const truth = v.groundTruth;
  const byStatus = Object.entries(truth.byStatus)
    .map(([code, n]) => `${esc(code)}: ${n}`)
    .join(", ");
  const faults = truth.faults
    .map(
      (f) =>
        `<li>${esc(f.kind)} on <b>${esc(f.target)}</b> ${esc(paramsText(f.params))}${f.revertedAtMs !== undefined ? ` for ${((f.revertedAtMs - f.appliedAtMs) / 1000).toFixed(1)} s` : " (never reverted)"}${f.revertError ? ` <span class="bad">revert failed: ${esc(f.revertError)}</span>` : ""}${f.effect ? `<br><small>measured: <span class="${f.effect.observed ? "" : "bad"}">${esc(f.effect.detail)}</span>${f.effect.firstEffectMs !== null ? `, first effect +${f.effect.firstEffectMs} ms` : ""} (${esc(f.effect.tolerance)})</small>` : ""}</li>`,
    )
    .join("");
  // Failed and otherwise unpassed scenarios open, passed ones collapsed; the toolbar filters on the data attributes.
  const failedFamilies = [...new Set(v.assertions.filter((a) => a.status === "failed").map((a) => a.family))];
  const ids = [
    v.name,
    ...v.assertions.map((a) => a.id),
    ...v.assertions.flatMap((a) => [...(a.evidence?.requestIds ?? []), ...(a.evidence?.traceIds ?? [])]),
  ];
  const parts = [
    `<details class="scenario ${v.status}" id="${anchor(v.name)}" data-status="${v.status}" data-failed-families="${failedFamilies.join(" ")}" data-ids="${esc([...new Set(ids)].join(" "))}"${v.status === "passed" ? "" : " open"}>`,
    `<summary><h2>${esc(v.name)} <span class="badge ${v.status}">${v.status.toUpperCase()}</span> <small>${seconds(v.durationMs)}</small></h2></summary>`,
    v.abortReason ? `<p class="bad">Aborted: ${esc(v.abortReason)}</p>` : "",
    `<p class="truth">${truth.requests} requests (${byStatus || "none"})${faults ? "" : "; no fault"}</p>`,
    faults ? `<ul class="faults">${faults}</ul>` : "",
    s.failed.length > 0
      ? `<div class="failed-block"><h3>Failed assertions</h3>${failureGroups(v.name, s).join("\n")}</div>`
      : "",
  ];
  if (s.hasEvidence) {
    parts.push(
      `<h3>Outcomes and latency</h3>`,
      `<div class="charts">${[s.outcome, ...s.latency]
        .filter((c) => c)
        .map((c) => chartBox(c!.id))
        .join("")}</div>`,
      `<p class="legend-note">Violet bands: journaled faults. Blue dashed bands: windows RCA detected from the request log. Red is a failure only (5xx, an ERROR span, a failed check).</p>`,
      `<h3>Probe timeline</h3>`,
      probeSvg(s.probes),
      rcaSection(s),
      `<h3>Reconciliation</h3>`,
      s.recon.length ? s.recon.map(reconTable).join("\n") : `<p>No reconciliation assertion in this scenario.</p>`,
      `<h3>Runtime</h3>`,
      s.runtime.length
        ? `<div class="charts">${s.runtime.map((c) => chartBox(c.id)).join("")}</div>`
        : `<p>No runtime range series in the evidence.</p>`,
    );
  } else {
    parts.push(`<p>No evidence was collected for this scenario.</p>`);
  }
  parts.push(allAssertions(v.name, v.assertions), `</details>`);
  return parts.filter(Boolean).join("\n");
}

function chartBox(id: string): string {
  return `<div class="chart" id="${esc(id)}"></div>`;
}

/** A scenario's failed assertions, grouped: each cause first, the failures it explains nested under it. */
function failureGroups(scenario: string, s: ScenarioView): string[] {
  const viewOf = (a: AssertionResult) => s.failed.find((f) => f.result === a)!;
  return groupFailures(s.verdict.assertions).map(({ cause, consequences }) => {
    const nested = consequences.map(
      ({ assertion, why }) =>
        `<div class="consequence"><p class="explained">explained by ${esc(cause.id)}: ${esc(why)}</p>${failedAssertion(scenario, viewOf(assertion), s.recon)}</div>`,
    );
    return failedAssertion(scenario, viewOf(cause), s.recon) + nested.join("\n");
  });
}

function failedAssertion(scenario: string, f: FailedAssertionView, recon: readonly ReconTable[]): string {
  const a = f.result;
  // A reconciliation that failed shows the rows that disagree first (the whole tables are further down).
  const disagreeing = recon
    .filter((t) => t.assertion === a.id && t.rows.some((r) => r.mismatch))
    .map((t) => reconTable({ ...t, rows: t.rows.filter((r) => r.mismatch) }))
    .join("\n");
  const traces = f.traces
    .map(
      (id) =>
        `<div class="trace"><div class="trace-id">trace ${esc(id)}</div><div class="waterfall" data-trace="${esc(id)}"></div></div>`,
    )
    .join("");
  const missing = f.missingTraces.length
    ? `<p class="missing">Named but not in the evidence (never found in the trace store): ${f.missingTraces.map(esc).join(", ")}</p>`
    : "";
  return `<article class="failed-assertion" id="${anchor(scenario, a.id)}">
<h4><span class="badge failed">FAILED</span> ${esc(a.id)} <small>${esc(a.family)}</small></h4>
<p class="headline">${esc(a.headline ?? a.message)}</p>
${HINTS[a.id] ? `<p class="hint">hint: ${esc(HINTS[a.id]!)}</p>` : ""}
<p class="message">${esc(a.message)}</p>
${disagreeing}
${f.requests.length ? requestTable(f.requests) : ""}
${traces ? `<div class="traces">${traces}</div>` : ""}
${missing}
<details><summary>expected and observed</summary><div class="kv"><div><b>expected</b><pre>${esc(JSON.stringify(a.expected, null, 2))}</pre></div><div><b>observed</b><pre>${esc(JSON.stringify(a.observed, null, 2))}</pre></div></div>${a.evidence?.sample !== undefined ? `<b>sample</b><pre>${esc(JSON.stringify(a.evidence.sample, null, 2))}</pre>` : ""}</details>
</article>`;
}

function requestTable(rows: readonly RequestRow[]): string {
  return `<table class="requests small"><thead><tr><th>request id</th><th>route</th><th>status</th><th>start (s)</th><th>latency (ms)</th><th>trace id</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td><code>${esc(r.id)}</code></td><td>${esc(r.route)}</td><td class="${r.status >= 200 && r.status < 400 ? "" : "bad"}">${r.status}${r.error ? ` (${esc(r.error)})` : ""}</td><td class="num">${r.startS.toFixed(2)}</td><td class="num">${r.latencyMs}</td><td><code>${esc(r.traceId)}</code></td></tr>`,
    )
    .join("")}</tbody></table>`;
}

const LANE_H = 18;
const LABEL_W = 160;
const SVG_W = 1000;

function probeSvg(p: ScenarioView["probes"]): string {
  if (p.lanes.length === 0) return `<p>No probe records.</p>`;
  const span = Math.max(0.001, p.toS - p.fromS);
  const x = (s: number) => LABEL_W + ((s - p.fromS) / span) * (SVG_W - LABEL_W - 10);
  const height = p.lanes.length * LANE_H + 24;
  const color = (status: number) =>
    status === 0 ? NO_RESPONSE_COLOR : (STATUS_COLORS[String(status)[0]!]?.[0] ?? STATUS_COLORS["4"]![0]!);
  const faults = p.faults
    .map(
      (f) =>
        `<rect class="fault" x="${x(f.from).toFixed(1)}" y="0" width="${Math.max(1, x(f.to) - x(f.from)).toFixed(1)}" height="${height - 20}"><title>${esc(f.label)}</title></rect>`,
    )
    .join("");
  const lanes = p.lanes
    .map((lane: ProbeLane, i) => {
      const y = i * LANE_H + 2;
      const runs = lane.runs
        .map(
          ([from, to, status]) =>
            `<rect class="run s${status}" x="${x(from).toFixed(1)}" y="${y}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${LANE_H - 6}" fill="${color(status)}"><title>${esc(lane.service)} /${esc(lane.probe)}: ${status} from ${from.toFixed(2)} s to ${to.toFixed(2)} s</title></rect>`,
        )
        .join("");
      const flips = lane.flips
        .map((f) => {
          const fx = x(f.atS).toFixed(1);
          // Flips the readiness-flip assertion measured carry its latency as a label; others a tooltip only.
          const label = f.detail
            ? `<text x="${(Number(fx) + 3).toFixed(1)}" y="${y + LANE_H - 8}">${esc(f.label)}</text>`
            : "";
          return `<g class="flip${f.detail ? " measured" : ""}"><line x1="${fx}" x2="${fx}" y1="${y - 1}" y2="${y + LANE_H - 4}"/>${label}<title>${esc(f.detail ?? f.label)} at ${f.atS.toFixed(2)} s</title></g>`;
        })
        .join("");
      return `<text class="lane" x="4" y="${y + LANE_H - 8}">${esc(lane.service)} /${esc(lane.probe)}</text>${runs}${flips}`;
    })
    .join("");
  const ticks: string[] = [];
  const step = span > 20 ? 5 : span > 8 ? 2 : 1;
  for (let t = Math.ceil(p.fromS / step) * step; t <= p.toS; t += step)
    ticks.push(`<text class="tick" x="${x(t).toFixed(1)}" y="${height - 6}">${t} s</text>`);
  return `<svg class="probes" viewBox="0 0 ${SVG_W} ${height}" width="100%" role="img" aria-label="probe timeline">${faults}${lanes}${ticks.join("")}</svg>`;
}

function reconTable(t: ReconTable): string {
  const mismatches = t.rows.filter((r) => r.mismatch).length;
  const body = t.rows
    .map(
      (r) =>
        `<tr class="${r.mismatch ? "mismatch" : ""}"><th>${esc(r.key)}</th>${r.values.map((v) => `<td class="num">${v ?? "–"}</td>`).join("")}</tr>`,
    )
    .join("");
  return `<details class="recon" ${mismatches > 0 || t.title.startsWith("Edge") ? "open" : ""}><summary>${esc(t.title)} <small>(${esc(t.assertion)} ${t.status}${mismatches ? `, <span class="bad">${mismatches} mismatch(es)</span>` : ""})</small></summary>
<table class="small"><thead><tr><th>operation|code</th>${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${body || `<tr><td colspan="${t.columns.length + 1}">nothing counted</td></tr>`}</tbody></table></details>`;
}

function rcaSection(s: ScenarioView): string {
  if (!s.rca) return "";
  const notes = s.rca.notes.map((n) => `<li>${esc(n)}</li>`).join("");
  const windows = s.rca.windows.map(rcaWindow).join("\n");
  return `<h3>Root-cause localisation</h3>
${windows || `<p>No window: no route's error rate or p99 moved away from its steady state.</p>`}
${notes ? `<ul class="notes">${notes}</ul>` : ""}`;
}

function rcaWindow(w: RcaWindowView): string {
  const win = w.window;
  const rate = (r: number) => `${(r * 100).toFixed(1)}%`;
  const suspects = win.suspects
    .map(
      (x: Suspect, i) =>
        `<tr><td class="num">${i + 1}</td><td><b>${esc(x.service)}</b></td><td>${esc(x.operation)}${x.via ? ` <small>[${esc(x.via)}]</small>` : ""}</td><td class="num">${x.score.toFixed(2)}</td><td>${x.traces ? `${esc(x.traces.signal)} ${Math.round(x.traces.share * 100)}%${x.traces.selfTimeDeltaMs !== undefined ? ` (${signed(x.traces.selfTimeDeltaMs)} ms)` : ""}` : "–"}</td><td>${x.metrics ? `#${x.metrics.rank} ${esc(x.metrics.signal)} (${esc(x.metrics.endpoint)})` : "–"}</td><td>${runtimeText(x.runtime)}</td></tr>`,
    )
    .join("");
  return `<div class="rca-window">
<p><b>${esc(win.route)}</b> ${w.fromS.toFixed(1)}–${w.toS.toFixed(1)} s: ${win.signals.map(esc).join(" and ")} moved. Steady state ${win.steady.requests} requests, errors ${rate(win.steady.errorRate)}, p99 ${Math.round(win.steady.p99Ms)} ms → window ${win.during.requests} requests, errors ${rate(win.during.errorRate)}, p99 ${Math.round(win.during.p99Ms)} ms (${win.during.slow} slower than ${Math.round(win.during.slowAboveMs)} ms); ${win.traced} traced.</p>
${suspects ? `<table class="small suspects"><thead><tr><th>#</th><th>service</th><th>operation</th><th>score</th><th>traces</th><th>metrics</th><th>runtime (window vs steady)</th></tr></thead><tbody>${suspects}</tbody></table>` : `<p>No suspect scored above the threshold.</p>`}
${w.exemplar ? `<div class="trace"><div class="trace-id">exemplar: request ${esc(w.exemplar.request.id)} (${w.exemplar.request.status}, ${w.exemplar.request.latencyMs} ms), first suspect highlighted</div><div class="waterfall" data-trace="${esc(w.exemplar.traceId)}"></div></div>` : ""}
</div>`;
}

function runtimeText(r: SuspectRuntime): string {
  const parts: string[] = [];
  const f = (label: string, c: { window: number; steady: number } | undefined, unit: string, digits = 2) => {
    if (c) parts.push(`${label} ${c.window.toFixed(digits)} vs ${c.steady.toFixed(digits)}${unit}`);
  };
  f("CPU", r.cpuCores, " cores");
  f("GC", r.gcPerSec, "/s", 1);
  f("lag max", r.eventLoopLagMs, " ms", 1);
  f("ELU", r.eventLoopUtilization, "");
  if (r.heapUsedBytes)
    parts.push(
      `heap ${(r.heapUsedBytes.window / 2 ** 20).toFixed(1)} vs ${(r.heapUsedBytes.steady / 2 ** 20).toFixed(1)} MiB`,
    );
  f("goroutines", r.goroutines, "", 0);
  if (r.missing.length) parts.push(`<span class="missing">not in range: ${r.missing.map(esc).join(", ")}</span>`);
  return parts.join("<br>");
}

function allAssertions(scenario: string, assertions: readonly AssertionResult[]): string {
  if (assertions.length === 0) return "";
  const rows = assertions
    .map(
      (a) =>
        `<tr class="${a.status}"><td>${esc(a.id)}</td><td><span class="badge ${a.status}">${a.status}</span></td><td>${esc(a.message)}</td></tr>`,
    )
    .join("");
  return `<details class="assertions"><summary>All ${assertions.length} assertions of ${esc(scenario)}</summary><table class="small"><tbody>${rows}</tbody></table></details>`;
}

/** A fault's parameters as "rate=0.2 grpcCode=UNAVAILABLE", not JSON. */
function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === "number" ? Number(v.toPrecision(4)) : String(v)}`)
    .join(" ");
}

/** A difference with its sign and at most one decimal: "+269.3", "-2.5". */
function signed(v: number): string {
  const rounded = Math.abs(v) >= 10 ? Math.round(v) : Math.round(v * 10) / 10;
  return `${rounded >= 0 ? "+" : ""}${rounded}`;
}

/** The id of a scenario's section (one part) or of a failed assertion in it (two) in report.html. */
export function anchor(...parts: string[]): string {
  return parts.join("--").replace(/[^A-Za-z0-9_-]+/g, "-");
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that cannot end the script element it sits in. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function scriptText(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script");
}

const CSS = `
:root { --ok: #2e9e5b; --bad: #d0342c; --warn: #e08a1e; --muted: #666; --line: #ddd; --bg-soft: #f6f7f9; --fault: rgba(123, 63, 181, 0.14); }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1f23; background: #fff; }
header.top { padding: 12px 24px; border-bottom: 4px solid var(--ok); background: var(--bg-soft); }
header.top.failed { border-color: var(--bad); } header.top.aborted, header.top.inconclusive { border-color: var(--warn); }
header.top.not-applicable { border-color: var(--muted); }
header h1 { margin: 0; font-size: 22px; } .sub { margin: 2px 0 0; color: var(--muted); }
main { max-width: 1280px; margin: 0 auto; padding: 8px 24px 48px; }
.toolbar { position: sticky; top: 0; z-index: 10; display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; padding: 6px 24px; background: #fff; border-bottom: 1px solid var(--line); }
.toolbar button { font: inherit; padding: 2px 8px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg-soft); cursor: pointer; }
.toolbar button[aria-pressed="true"] { background: #1d1f23; color: #fff; } .toolbar input { min-width: 0; flex: 1 1 220px; font: inherit; padding: 2px 6px; }
details.scenario > summary { cursor: pointer; list-style-position: outside; } details.scenario > summary h2 { display: inline-block; width: calc(100% - 24px); }
details.scenario[hidden] { display: none; } :target { scroll-margin-top: 48px; }
h2 { margin: 28px 0 8px; font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 15px; } h4 { margin: 6px 0; font-size: 14px; }
small { color: var(--muted); font-weight: normal; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 11px; font-weight: 600; color: #fff; background: var(--ok); vertical-align: middle; }
.badge.failed, .badge.FAILED { background: var(--bad); } .badge.aborted, .badge.ABORTED, .badge.INTERRUPTED, .badge.inconclusive, .badge.INCONCLUSIVE { background: var(--warn); }
.badge.not-promised, .badge.not-applicable, .badge.NOT-APPLICABLE { background: var(--muted); }
table { border-collapse: collapse; margin: 4px 0 10px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg-soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.ok { color: var(--ok); font-weight: 600; } td.bad, .bad { color: var(--bad); font-weight: 600; } td.na { color: var(--muted); }
table.small { font-size: 12.5px; }
tr.mismatch { background: #fde8e7; } tr.mismatch th { color: var(--bad); }
tr.failed td:first-child { color: var(--bad); font-weight: 600; }
.summary-grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
@media (max-width: 1000px) { .summary-grid { grid-template-columns: 1fr; } }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
ul.tools { margin: 0; padding: 0; list-style: none; }
pre { background: var(--bg-soft); padding: 8px; overflow: auto; font-size: 12px; max-height: 360px; margin: 4px 0; }
pre.command { white-space: pre-wrap; word-break: break-all; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 540px), 1fr)); gap: 12px; }
.chart { min-width: 0; min-height: 250px; border: 1px solid var(--line); border-radius: 4px; padding: 4px; overflow: hidden; }
.legend-note { color: var(--muted); font-size: 12px; margin: 2px 0; }
svg.probes { display: block; max-width: 100%; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
svg.probes text { font-size: 11px; fill: #333; } svg.probes text.tick { fill: var(--muted); }
svg.probes rect.fault { fill: var(--fault); }
svg.probes .flip line { stroke: #111; stroke-width: 1.5; }
svg.probes .flip text { font-size: 10.5px; fill: #111; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.failed-block { border-left: 4px solid var(--bad); padding: 2px 12px; background: #fffafa; }
.failed-assertion { margin: 8px 0 16px; }
.message { margin: 2px 0 6px; color: var(--muted); font-size: 12px; }
.headline { margin: 2px 0; font-weight: 600; } .hint { margin: 2px 0; font-style: italic; }
.consequence { margin-left: 24px; padding-left: 10px; border-left: 3px solid var(--muted); } .explained { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
.kv { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px; }
.trace { margin: 6px 0 10px; } .trace-id { font: 12px ui-monospace, monospace; color: var(--muted); }
.wf { border: 1px solid var(--line); border-radius: 4px; font-size: 12px; max-height: 560px; overflow-y: auto; }
.wf-row { display: grid; grid-template-columns: minmax(120px, 40%) 1fr; border-top: 1px solid #eee; min-height: 20px; cursor: pointer; }
.wf-row:focus-visible { outline: 2px solid #1f77b4; outline-offset: -2px; }
.wf-attrs { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0 10px; margin: 0; padding: 4px 8px 6px 24px; background: var(--bg-soft); font: 11.5px ui-monospace, monospace; }
.wf-attrs[hidden] { display: none; } .wf-attrs dt { color: var(--muted); } .wf-attrs dd { margin: 0; overflow-wrap: anywhere; }
.wf-row.err .wf-label { color: var(--bad); font-weight: 600; } .wf-row.err .wf-label::before { content: "✗ "; }
.wf-row:first-child { border-top: 0; }
.wf-label { padding: 1px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wf-label .kind { color: var(--muted); font-size: 10.5px; } .wf-label .code { font-family: ui-monospace, monospace; font-size: 11px; } .wf-label .code.bad { color: var(--bad); }
.wf-track { position: relative; background: repeating-linear-gradient(90deg, transparent 0 calc(10% - 1px), #f0f0f0 calc(10% - 1px) 10%); }
.wf-bar { position: absolute; top: 4px; height: 12px; background: #5b8def; border-radius: 2px; min-width: 2px; }
.wf-bar.client { background: #9bb7f0; } .wf-bar.error { background: var(--bad); }
.wf-row.hl { background: #fff6d6; } .wf-row.hl .wf-bar { outline: 2px solid #b8860b; }
.wf-dur { position: absolute; top: 2px; font-size: 10.5px; color: #333; white-space: nowrap; } .wf-dur.inside { color: #fff; font-weight: 600; }
.wf-axis { display: grid; grid-template-columns: minmax(120px, 40%) 1fr; color: var(--muted); font-size: 11px; }
.wf-ticks { position: relative; height: 15px; } .wf-ticks span { position: absolute; white-space: nowrap; }
.wf-ticks span:not(:first-child):not(:last-child) { transform: translateX(-50%); }
.table-wrap { max-width: 100%; overflow-x: auto; }
@media (max-width: 600px) {
  main { padding: 4px 8px 32px; } .toolbar { padding: 6px 8px; } header.top { padding: 8px; }
  .kv { grid-template-columns: minmax(0, 1fr); } h2 { font-size: 16px; }
  table { display: block; max-width: 100%; overflow-x: auto; } table.suspects td, table.suspects th { white-space: nowrap; }
  /* A waterfall row's label above its bar: the whole width for each, nothing cut. */
  .wf-row, .wf-axis { grid-template-columns: minmax(0, 1fr); } .wf-axis > span:first-child { display: none; }
  .wf-label { white-space: normal; overflow-wrap: anywhere; } .wf-track { min-height: 20px; } .wf-ticks span:nth-child(2), .wf-ticks span:nth-child(4) { display: none; }
}
main, .scenario, .failed-assertion { max-width: 100%; overflow-wrap: anywhere; }
.wf-logs pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.rca-window { margin: 6px 0 14px; } .notes, .missing { color: var(--muted); font-size: 12px; }
.rca-score { margin-top: 12px; padding: 8px 12px; background: var(--bg-soft); border-radius: 4px; }
details > summary { cursor: pointer; margin: 4px 0; }
.ok-note { color: var(--ok); font-weight: 600; }
.u-title { font-size: 13px !important; font-weight: 600 !important; }
`;
