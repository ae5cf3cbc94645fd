// Charts drawn by the app as SVG: horizontal bars with their counts. A suppressed bucket
// (count null) is drawn as a hatched stub labelled "fewer than 5", never as 0 or a blank.
import { h } from "./dom.js";
import { count, num, percent, t } from "./i18n.js";

const WIDTH = 360;
const ROW = 28;
const LABEL = 134;
const VALUE = 96;

let patterns = 0;

/** A figure with a bar chart of `rows` = [{label, count}] (count null = suppressed). */
export function barChart(title, rows, { total = null, note = "" } = {}) {
  const figure = h("figure", { class: "chart" }, h("figcaption", {}, title));
  if (!rows.length) {
    figure.append(h("p", { class: "empty" }, t("chart.empty")));
    return figure;
  }
  const max = Math.max(1, ...rows.map((r) => r.count || 0));
  const height = rows.length * ROW + 4;
  const hatch = `hatch-${++patterns}`;
  const barSpace = WIDTH - LABEL - VALUE;
  const svg = h("svg", { viewBox: `0 0 ${WIDTH} ${height}`, width: "100%", role: "img", "aria-label": title, class: "bars" },
    h("defs", {}, h("pattern", { id: hatch, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      h("rect", { width: 6, height: 6, class: "hatch-bg" }), h("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }))),
    rows.map((row, i) => {
      const y = i * ROW + 2;
      const suppressed = row.count === null;
      const width = suppressed ? 14 : Math.max(row.count > 0 ? 2 : 0, (barSpace * row.count) / max);
      const value = suppressed ? t("suppressed") : `${num(row.count)}${total ? ` · ${percent(row.count, total)}` : ""}`;
      return h("g", { class: suppressed ? "bar suppressed" : "bar" },
        h("title", {}, `${row.title || row.label}: ${count(row.count)}`),
        h("text", { x: LABEL - 6, y: y + ROW / 2 + 4, "text-anchor": "end", class: "bar-label" }, clip(row.label, 20)),
        h("rect", { x: LABEL, y: y + 4, width, height: ROW - 8, rx: 2, fill: suppressed ? `url(#${hatch})` : null }),
        h("text", { x: LABEL + width + 6, y: y + ROW / 2 + 4, class: "bar-value" }, value));
    }));
  figure.append(svg);
  // The same figures as a table for screen readers and for copying.
  figure.append(h("div", { class: "sr-only" }, h("table", {},
    h("caption", {}, title),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, r.title || r.label), h("td", {}, count(r.count))))))));
  if (note) figure.append(h("p", { class: "note" }, note));
  return figure;
}

/** A progress bar: `done` of `total`. */
export function progress(title, done, total) {
  const share = total ? Math.min(1, done / total) : 0;
  return h("figure", { class: "chart progress" }, h("figcaption", {}, title),
    h("svg", { viewBox: `0 0 ${WIDTH} 28`, width: "100%", height: 28, preserveAspectRatio: "none", role: "img", "aria-label": `${title}: ${num(done)} / ${num(total)}` },
      h("rect", { x: 0, y: 4, width: WIDTH, height: 20, rx: 4, class: "track" }),
      h("rect", { x: 0, y: 4, width: WIDTH * share, height: 20, rx: 4, class: "done" })),
    h("p", { class: "note" }, t("chart.progress", { done: num(done), total: num(total), share: percent(done, total) || "0%" })));
}

function clip(text, n) {
  const s = String(text);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
