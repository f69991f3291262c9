// @ts-check
/**
 * Run view renderer (runs inside the webview, under a nonce CSP). Receives `update` messages
 * from extension/src/webview/panel.ts: { runId, summary, progressText, series: {loss, evalLoss},
 * report } and draws an SVG loss chart plus the evaluation report. Builds DOM nodes with
 * textContent only: no HTML from run data is ever parsed. Colours are VS Code theme variables.
 */
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const SVG = "http://www.w3.org/2000/svg";

  /** @param {string} tag @param {Record<string,string>} [attrs] @param {string} [text] */
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /** @param {string} tag @param {Record<string,string|number>} [attrs] */
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }
  /** @param {number} v */
  function fmt(v) {
    if (!Number.isFinite(v)) return "–";
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 0.001 || a >= 1e5)) return v.toExponential(2);
    return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(3) : v.toFixed(4);
  }

  /** Evenly thin a series to at most n points (keeps first and last). */
  function thin(points, n) {
    if (points.length <= n) return points;
    const out = [];
    const stride = (points.length - 1) / (n - 1);
    for (let i = 0; i < n; i++) out.push(points[Math.round(i * stride)]);
    return out;
  }

  /** Nice tick values between lo and hi, and the decimals that print them evenly. */
  function ticks(lo, hi, count) {
    if (!(hi > lo)) return { values: [lo], decimals: 2 };
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const values = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) values.push(v);
    return { values, decimals: Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))) };
  }

  /**
   * @param {{loss: {step:number,value:number}[], evalLoss: {step:number,value:number}[]}} series
   */
  function drawChart(series) {
    const host = /** @type {HTMLElement} */ (document.getElementById("chart"));
    const legend = /** @type {HTMLElement} */ (document.getElementById("legend"));
    host.replaceChildren();
    legend.replaceChildren();
    const lines = [
      { key: "loss", label: "training loss", cls: "line-loss", points: thin(series.loss || [], 800) },
      { key: "eval", label: "eval loss", cls: "line-eval", points: series.evalLoss || [] },
    ].filter((l) => l.points.length > 0);
    if (lines.length === 0) {
      host.appendChild(el("p", { class: "empty" }, "No loss reported yet."));
      return;
    }
    const all = lines.flatMap((l) => l.points);
    let x0 = Math.min(...all.map((p) => p.step));
    let x1 = Math.max(...all.map((p) => p.step));
    let y0 = Math.min(...all.map((p) => p.value));
    let y1 = Math.max(...all.map((p) => p.value));
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const pad = (y1 - y0) * 0.05;
    y0 -= pad; y1 += pad;
    const W = 640, H = 260, L = 56, R = 12, T = 10, B = 30;
    const sx = (s) => L + ((s - x0) / (x1 - x0)) * (W - L - R);
    const sy = (v) => T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", preserveAspectRatio: "none" });
    const axes = svg("g", { class: "axes" });
    const yt = ticks(y0, y1, 5);
    for (const v of yt.values) {
      axes.appendChild(svg("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: "grid" }));
      const t = svg("text", { x: L - 6, y: sy(v) + 4, "text-anchor": "end" });
      t.textContent = v.toFixed(yt.decimals);
      axes.appendChild(t);
    }
    for (const s of ticks(x0, x1, 6).values) {
      const t = svg("text", { x: sx(s), y: H - 10, "text-anchor": "middle" });
      t.textContent = String(Math.round(s));
      axes.appendChild(t);
    }
    axes.appendChild(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
    axes.appendChild(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
    root.appendChild(axes);
    for (const line of lines) {
      const d = line.points.map((p, i) => `${i ? "L" : "M"}${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(" ");
      root.appendChild(svg("path", { d, class: `series ${line.cls}`, "data-series": line.key, "data-points": line.points.length }));
      if (line.points.length <= 60) {
        for (const p of line.points) root.appendChild(svg("circle", { cx: sx(p.step), cy: sy(p.value), r: 2.5, class: `dot ${line.cls}` }));
      }
      const last = line.points[line.points.length - 1];
      const item = el("li", { class: line.cls });
      item.appendChild(el("span", { class: "swatch" }));
      item.appendChild(document.createTextNode(`${line.label}: ${fmt(last.value)} @ step ${last.step}`));
      legend.appendChild(item);
    }
    host.appendChild(root);
  }

  /** @param {any} report */
  function drawReport(report) {
    const section = /** @type {HTMLElement} */ (document.getElementById("report-section"));
    if (!report) { section.hidden = true; return; }
    section.hidden = false;
    const meta = /** @type {HTMLElement} */ (document.getElementById("report-meta"));
    meta.replaceChildren();
    const bits = [report.title, report.dataset && `eval set: ${report.dataset}`, report.created].filter(Boolean);
    meta.textContent = bits.join(" · ");
    const models = report.models;

    // A/B metrics table: one row per metric, one column per model, best value marked.
    const table = /** @type {HTMLTableElement} */ (document.getElementById("metrics"));
    table.replaceChildren();
    const head = el("tr");
    head.appendChild(el("th", { scope: "col" }, "Metric"));
    for (const m of models) head.appendChild(el("th", { scope: "col" }, m.label));
    if (models.length === 2) head.appendChild(el("th", { scope: "col" }, "Δ (B − A)"));
    const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    const tbody = el("tbody");
    const wins = {};
    for (const q of report.questions) if (q.winner) wins[q.winner] = (wins[q.winner] || 0) + 1;
    const rows = report.metrics.slice();
    if (Object.keys(wins).length) {
      const values = {};
      for (const m of models) values[m.id] = wins[m.id] || 0;
      rows.push({ name: "wins", label: "Wins (per question)", higherIsBetter: true, values });
    }
    for (const metric of rows) {
      const tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, metric.label));
      const vals = models.map((m) => metric.values[m.id]);
      const finite = vals.filter((v) => typeof v === "number");
      const best = finite.length > 1 ? (metric.higherIsBetter ? Math.max(...finite) : Math.min(...finite)) : undefined;
      const tie = best !== undefined && finite.filter((v) => v === best).length > 1;
      for (const v of vals) {
        const td = el("td", { class: "num" }, typeof v === "number" ? fmt(v) : "–");
        if (!tie && best !== undefined && v === best) td.classList.add("best");
        tr.appendChild(td);
      }
      if (models.length === 2) {
        const [a, b] = vals;
        const delta = typeof a === "number" && typeof b === "number" ? b - a : undefined;
        const td = el("td", { class: "num" }, delta === undefined ? "–" : (delta > 0 ? "+" : "") + fmt(delta));
        if (delta !== undefined && delta !== 0) td.classList.add((delta > 0) === metric.higherIsBetter ? "better" : "worse");
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);

    // Per-question answers side by side.
    const qs = /** @type {HTMLElement} */ (document.getElementById("questions"));
    qs.replaceChildren();
    for (const q of report.questions) {
      const card = el("article", { class: "question" });
      const h = el("header");
      h.appendChild(el("span", { class: "qid" }, `#${q.id}`));
      if (q.winner) h.appendChild(el("span", { class: "winner" }, q.winner === "tie" ? "tie" : `winner: ${(models.find((m) => m.id === q.winner) || { label: q.winner }).label}`));
      card.appendChild(h);
      card.appendChild(el("pre", { class: "prompt" }, q.prompt));
      if (q.reference) {
        const ref = el("details", { class: "reference" });
        ref.appendChild(el("summary", {}, "Reference answer"));
        ref.appendChild(el("pre", {}, q.reference));
        card.appendChild(ref);
      }
      const grid = el("div", { class: "answers" });
      grid.style.setProperty("--columns", String(models.length));
      for (const m of models) {
        const col = el("div", { class: "answer" + (q.winner === m.id ? " won" : "") });
        const score = q.scores[m.id];
        col.appendChild(el("h4", {}, m.label + (typeof score === "number" ? ` · ${fmt(score)}` : "")));
        col.appendChild(el("pre", {}, q.answers[m.id] ?? "–"));
        grid.appendChild(col);
      }
      card.appendChild(grid);
      if (q.notes) card.appendChild(el("p", { class: "notes" }, q.notes));
      qs.appendChild(card);
    }
    if (report.truncated) qs.appendChild(el("p", { class: "empty" }, `${report.truncated} more questions not shown.`));
  }

  /** @param {any} msg */
  function update(msg) {
    const s = msg.summary || {};
    const status = /** @type {HTMLElement} */ (document.getElementById("status"));
    const what = [s.model, s.method, s.dataset].filter(Boolean).join(" · ");
    status.textContent = [s.status, msg.progressText, what, s.error].filter(Boolean).join(" — ");
    status.dataset.status = s.status || "";
    drawChart(msg.series || { loss: [], evalLoss: [] });
    drawReport(msg.report);
    vscode.setState({ last: msg });
  }

  window.addEventListener("message", (event) => {
    const msg = event.data;
    if (msg && msg.type === "update") update(msg);
  });
  const state = vscode.getState();
  if (state && state.last) update(state.last);
  vscode.postMessage({ type: "ready" });
})();
