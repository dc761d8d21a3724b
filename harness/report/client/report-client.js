// @ts-check
/**
 * report.html's client script, inlined into the page after uPlot: draws the charts and trace waterfalls from the
 * JSON in #report-data. No dependency apart from uPlot, no network. Exposes window.meshproofReport (the uPlot
 * instances, waterfalls drawn, errors) so a browser test can check what was drawn.
 */
(function () {
  "use strict";

  /**
   * @typedef {{ from: number, to: number, label: string, kind: "fault" | "window" }} Shade
   * @typedef {{ label: string, color: string, values: (number | null)[], dash?: boolean }} SeriesSpec
   * @typedef {{ id: string, title: string, yLabel: string, x: number[], series: SeriesSpec[], shades: Shade[], kind: "step" | "line", xRange?: [number, number] }} ChartSpec
   * @typedef {[number, string, string, string, number, number, 0 | 1, string, 0 | 1, [string, string][]]} Row
   * @typedef {{ traceId: string, totalUs: number, rows: Row[], logs?: [string, string][] }} WaterfallTrace
   * @typedef {{ charts: ChartSpec[], traces: Record<string, WaterfallTrace> }} ReportData
   * @typedef {{ id: string, plot: uPlot, points: number }} DrawnChart
   */

  /** @type {{ charts: DrawnChart[], waterfalls: number, errors: string[], ready: boolean }} */
  const state = { charts: [], waterfalls: 0, errors: [], ready: false };
  /** @type {any} */ (window).meshproofReport = state;

  const source = document.getElementById("report-data");
  /** @type {ReportData} */
  const data = JSON.parse((source && source.textContent) || '{"charts":[],"traces":{}}');

  // One meaning per colour across the page: red is a failure (5xx, an ERROR span, a failed check), green a success,
  // amber a client error or attention, violet an injected fault, dashed blue an RCA window.
  const FAULT_FILL = "rgba(123, 63, 181, 0.14)";
  const WINDOW_FILL = "rgba(51, 102, 204, 0.09)";

  /** @param {uPlot} u @param {Shade[]} shades */
  function drawShades(u, shades) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const s of shades) {
      const x0 = u.valToPos(s.from, "x", true);
      const x1 = u.valToPos(s.to, "x", true);
      ctx.fillStyle = s.kind === "fault" ? FAULT_FILL : WINDOW_FILL;
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
      if (s.kind === "window") {
        ctx.strokeStyle = "rgba(51, 102, 204, 0.7)";
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(x0, top + 1, Math.max(1, x1 - x0), height - 2);
        ctx.setLineDash([]);
      }
    }
    ctx.restore();
  }

  /** @param {HTMLElement} el */
  function widthOf(el) {
    // The box's width without the drawn canvas in it (a canvas drawn wider would hold the box open).
    const style = getComputedStyle(el);
    const inner = (el.parentElement ? el.parentElement.clientWidth : el.clientWidth) - 10;
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    return Math.max(240, Math.floor(Math.min(el.clientWidth, inner) - padding));
  }

  /** @param {ChartSpec} spec */
  function drawChart(spec) {
    const el = document.getElementById(spec.id);
    if (!el) throw new Error(`no element #${spec.id} for chart "${spec.title}"`);
    const stepped = uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    /** @type {uPlot.Options} */
    const opts = {
      title: spec.title,
      width: widthOf(el),
      height: 230,
      // One x range for every chart of a scenario; y from zero (every chart is a count, rate, duration or level).
      scales: {
        x: spec.xRange ? { time: false, range: () => /** @type {[number, number]} */ (spec.xRange) } : { time: false },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
      },
      axes: [
        { label: "s since load start", labelSize: 20 },
        { label: spec.yLabel, labelSize: 20 },
      ],
      series: [
        { label: "t (s)" },
        ...spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.6,
          dash: s.dash ? [6, 3] : undefined,
          paths: spec.kind === "step" ? stepped : undefined,
          points: { show: spec.kind !== "step", size: 4 },
          spanGaps: false,
        })),
      ],
      // Legend boxes filled with the line's colour (uPlot fills them with the series' area fill, none here); dashed
      // for a dashed line.
      legend: {
        markers: {
          fill: (_u, i) => (i === 0 ? "transparent" : spec.series[i - 1].color),
          dash: (_u, i) => (i > 0 && spec.series[i - 1].dash ? "dashed" : "solid"),
        },
      },
      hooks: { drawClear: [(u) => drawShades(u, spec.shades)] },
    };
    const plot = new uPlot(opts, /** @type {uPlot.AlignedData} */ ([spec.x, ...spec.series.map((s) => s.values)]), el);
    const points = spec.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
    state.charts.push({ id: spec.id, plot, points });
  }

  /** @param {string} tag @param {string} [className] @param {string} [text] */
  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  /** @param {number} us */
  function ms(us) {
    return us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : `${(us / 1000).toFixed(2)} ms`;
  }

  /** @param {HTMLElement} el @param {WaterfallTrace | undefined} trace */
  function drawWaterfall(el, trace) {
    if (!trace) {
      el.textContent = "trace not in the report data";
      return;
    }
    const box = make("div", "wf");
    // The time scale: ticks at fifths of the trace, over the bars' track.
    const axis = make("div", "wf-axis");
    const ticks = make("div", "wf-ticks");
    for (let i = 0; i <= 4; i++) {
      const tick = make("span", "", ms((trace.totalUs * i) / 4));
      if (i === 4) tick.style.right = "0";
      else tick.style.left = `${i * 25}%`;
      ticks.append(tick);
    }
    axis.append(make("span", "", "span: code service: name kind (click for attributes)"), ticks);
    for (const [depth, service, name, kind, startUs, durationUs, error, code, highlighted, attributes] of trace.rows) {
      const row = make("div", `wf-row${highlighted ? " hl" : ""}${error ? " err" : ""}`);
      const label = make("div", "wf-label");
      label.style.paddingLeft = `${6 + depth * 14}px`;
      // The status code first: a cut label keeps what tells the failing span from the others.
      if (code) label.append(make("span", `code${error ? " bad" : ""}`, `${code} `));
      label.append(`${service}: ${name} `, make("span", "kind", kind));
      label.title = `${service} ${kind} ${name}${code ? ` ${code}` : ""}${error ? " (ERROR)" : ""}`;
      const track = make("div", "wf-track");
      const bar = make("div", `wf-bar ${kind}${error ? " error" : ""}`);
      const left = Math.max(0, Math.min(100, (startUs / trace.totalUs) * 100));
      const width = Math.max(0.3, Math.min(100 - left, (durationUs / trace.totalUs) * 100));
      bar.style.left = `${left}%`;
      bar.style.width = `${width}%`;
      bar.title = `${service} ${kind} ${name}: ${ms(durationUs)} at +${ms(startUs)}${code ? `, code ${code}` : ""}${error ? ", status ERROR" : ""}`;
      // The duration right of the bar, else left of it, else (a bar across the track) inside it: never over a bar's
      // edge, never outside the track.
      const dur = make("span", "wf-dur", ms(durationUs));
      if (left + width <= 80) dur.style.left = `${left + width + 0.5}%`;
      else if (left >= 20) dur.style.right = `${100 - left + 0.5}%`;
      else {
        dur.classList.add("inside");
        dur.style.right = `${100 - left - width + 0.5}%`;
      }
      track.append(bar, dur);
      row.append(label, track);
      // The span's attributes, as text, under its row: shown on a click or Enter on the row.
      const details = make("dl", "wf-attrs");
      details.hidden = true;
      for (const [key, value] of attributes) details.append(make("dt", "", key), make("dd", "", value));
      row.tabIndex = 0;
      row.setAttribute("role", "button");
      row.setAttribute("aria-expanded", "false");
      const toggle = () => {
        details.hidden = !details.hidden;
        row.setAttribute("aria-expanded", String(!details.hidden));
      };
      row.addEventListener("click", toggle);
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          toggle();
        }
      });
      box.append(row, details);
    }
    const parts = [axis, box];
    const logs = trace.logs || [];
    if (logs.length > 0) {
      // The trace's log lines, as text: what the services wrote while serving it.
      const lines = make("details", "wf-logs");
      lines.append(make("summary", "", `${logs.length} log line${logs.length === 1 ? "" : "s"} of this trace`));
      const pre = make("pre");
      pre.textContent = logs.map(([service, line]) => `${service}: ${line}`).join("\n");
      lines.append(pre);
      parts.push(lines);
    }
    el.replaceChildren(...parts);
    state.waterfalls++;
  }

  for (const spec of data.charts) {
    try {
      drawChart(spec);
    } catch (error) {
      state.errors.push(`chart ${spec.id}: ${String(error)}`);
      console.error(error);
    }
  }
  document.querySelectorAll("[data-trace]").forEach((el) => {
    const node = /** @type {HTMLElement} */ (el);
    try {
      drawWaterfall(node, data.traces[node.dataset.trace || ""]);
    } catch (error) {
      state.errors.push(`waterfall ${node.dataset.trace}: ${String(error)}`);
      console.error(error);
    }
  });

  /** Redraws the charts inside `root` at their boxes' width (a collapsed section's charts were drawn at the minimum). */
  /** @param {Element | Document} root */
  function resizeCharts(root) {
    for (const c of state.charts) {
      const el = document.getElementById(c.id);
      if (el && root.contains(el)) c.plot.setSize({ width: widthOf(el), height: 230 });
    }
  }
  document.querySelectorAll("details.scenario").forEach((d) => {
    d.addEventListener("toggle", () => {
      if (/** @type {HTMLDetailsElement} */ (d).open) resizeCharts(d);
    });
  });

  // The toolbar: a status filter, a family filter (scenarios where an assertion of it failed) and a search over the
  // ids a scenario names; a scenario the search finds opens.
  const filter = { status: "all", family: "", query: "" };
  function applyFilter() {
    const sections = /** @type {HTMLDetailsElement[]} */ (Array.from(document.querySelectorAll("details.scenario")));
    let shown = 0;
    for (const section of sections) {
      const d = section.dataset;
      const query = filter.query.toLowerCase();
      const found = !query || (d.ids || "").toLowerCase().includes(query);
      const visible =
        (filter.status === "all" || d.status === filter.status) &&
        (!filter.family || (d.failedFamilies || "").split(" ").includes(filter.family)) &&
        found;
      section.hidden = !visible;
      if (visible) shown++;
      if (visible && query && !section.open) section.open = true;
    }
    const counter = document.getElementById("shown");
    if (counter) counter.textContent = `${shown} of ${sections.length} scenarios`;
  }
  document.querySelectorAll("[data-status-filter]").forEach((button) => {
    button.addEventListener("click", () => {
      filter.status = /** @type {HTMLElement} */ (button).dataset.statusFilter || "all";
      document
        .querySelectorAll("[data-status-filter]")
        .forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      applyFilter();
    });
  });
  const family = /** @type {HTMLSelectElement | null} */ (document.getElementById("family-filter"));
  family?.addEventListener("change", () => {
    filter.family = family.value;
    applyFilter();
  });
  const search = /** @type {HTMLInputElement | null} */ (document.getElementById("search"));
  search?.addEventListener("input", () => {
    filter.query = search.value.trim();
    applyFilter();
  });
  // A link to a section or a failed assertion inside a collapsed scenario opens it.
  function openTarget() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const section = target && target.closest("details.scenario");
    if (section && !(/** @type {HTMLDetailsElement} */ (section).open))
      /** @type {HTMLDetailsElement} */ (section).open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  /** @type {number | undefined} */
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => resizeCharts(document), 150);
  });
  state.ready = true;
})();
