// My area: key figures, charts of the composition and outreach, and the units below in a table
// sortable by any figure. One GraphQL request.
import { barChart, progress } from "../charts.js";
import { fill, h } from "../dom.js";
import { count, label, nameOf, num, percent, t } from "../i18n.js";
import { href } from "../router.js";
import { can } from "../session.js";
import { graphql } from "../api.js";
import { crumbs, empty, printButtons, schemeNames, unitTitle } from "./common.js";

const BUCKETS = "key count";
/** What the dashboard shows of a unit; main.js also asks it of the viewer's roots on a first load. */
export const AREA_FIELDS = `code name nameHi level path { code name nameHi level }
    stats {
      voters withPhone contactable surveyed suppressed
      byGender { ${BUCKETS} } byAgeBand { ${BUCKETS} } byCasteCategory { ${BUCKETS} } byCaste(top: 10) { ${BUCKETS} }
      byEconomicStatus { ${BUCKETS} } beneficiaries { ${BUCKETS} }
      outreach { assigned called byOutcome { ${BUCKETS} } }
    }
    children(first: 100) { totalCount edges { node { code name nameHi level
      stats { voters withPhone contactable surveyed outreach { assigned called } } } } }`;
const QUERY = `query Area($code: String!) { unit(code: $code) { ${AREA_FIELDS} } schemes { code name nameHi } }`;
let prefetched = null;

/** The dashboard of `unit`, already fetched with the viewer (main.js), used once instead of a request. */
export function prefetch(unit, schemes) {
  prefetched = unit && unit.stats ? { unit, schemes } : null;
}

const COLUMNS = [
  ["voters", (s) => s.voters],
  ["withPhone", (s) => s.withPhone],
  ["contactable", (s) => s.contactable],
  ["surveyed", (s) => s.surveyed],
  ["assigned", (s) => s.outreach.assigned],
  ["called", (s) => s.outreach.called],
];
const AGE_BANDS = ["18-25", "26-35", "36-45", "46-60", "61+"];
const ORDER = {
  gender: ["MALE", "FEMALE", "THIRD_GENDER"],
  casteCategory: ["GEN", "OBC", "SC", "ST"],
  economicStatus: ["BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"],
  outcome: ["REACHED", "NO_ANSWER", "CALL_BACK", "WRONG_NUMBER", "REFUSED"],
};
let sort = { key: "name", descending: false };

export async function areaView(main, route, view) {
  const ready = prefetched && prefetched.unit.code === route.arg ? prefetched : null;
  prefetched = null;
  const data = ready || (await graphql(QUERY, { code: route.arg }));
  if (!view.isCurrent()) return;
  const unit = data.unit;
  if (!unit) { fill(main, empty(t("unit.absent"))); return; }
  const s = unit.stats;
  const names = schemeNames(data.schemes);
  const ordered = (kind, buckets) => ORDER[kind]
    .map((key) => buckets.find((b) => b.key === key))
    .filter(Boolean)
    .concat(buckets.filter((b) => !ORDER[kind].includes(b.key)))
    .map((b) => ({ label: label(kind, b.key), count: b.count }));
  const sensitiveNote = s.suppressed ? t("stats.suppressedNote") : "";
  const figures = h("dl", { class: "figures" },
    figure(t("stat.voters"), num(s.voters)),
    figure(t("stat.withPhone"), num(s.withPhone), percent(s.withPhone, s.voters)),
    figure(t("stat.contactable"), num(s.contactable), percent(s.contactable, s.voters)),
    figure(t("stat.surveyed"), num(s.surveyed), percent(s.surveyed, s.voters)),
    figure(t("stat.called"), num(s.outreach.called), t("stat.ofTotal", { total: num(s.outreach.assigned) })));
  const charts = h("div", { class: "charts" },
    barChart(t("chart.gender"), ordered("gender", s.byGender), { total: s.voters }),
    barChart(t("chart.age"), AGE_BANDS.map((band) => ({ label: band, count: (s.byAgeBand.find((b) => b.key === band) || { count: 0 }).count }))
      , { total: s.voters }),
    barChart(t("chart.casteCategory"), ordered("casteCategory", s.byCasteCategory), { note: sensitiveNote }),
    barChart(t("chart.caste"), s.byCaste.map((b) => ({ label: b.key, count: b.count })), { note: sensitiveNote }),
    barChart(t("chart.economic"), ordered("economicStatus", s.byEconomicStatus), { note: sensitiveNote }),
    // Long scheme names would clip alike ("Pradhan Mantri …"): their short codes, the name in the bar's title.
    barChart(t("chart.schemes"), s.beneficiaries.map((b) => {
      const name = names.get(b.key) || b.key;
      return { label: name.length > 16 ? b.key : name, title: name, count: b.count };
    })),
    progress(t("chart.outreach"), s.outreach.called, s.outreach.assigned),
    barChart(t("chart.outcomes"), ordered("outcome", s.outreach.byOutcome)));
  const below = unit.children.edges.map((e) => e.node);
  const tableBox = h("div", { class: "table-wrap" });
  const actions = h("p", { class: "actions" },
    can("voter.read") ? h("a", { class: "button", href: href("voters", unit.code) }, t("unit.voters")) : null,
    can("audit.read") ? h("a", { class: "button secondary", href: href("audit", null, { unit: unit.code }) }, t("nav.audit")) : null,
    unit.level === "BOOTH" ? printButtons(unit.code, null) : null);
  fill(main, crumbs(unit), unitTitle(unit), actions,
    s.suppressed ? h("p", { class: "notice" }, t("stats.suppressedBanner")) : null,
    figures, h("h2", {}, t("unit.composition")), charts,
    below.length ? [h("h2", { id: "below" }, t("unit.below", { level: label("levels", below[0].level), n: num(unit.children.totalCount) })), tableBox] : null);
  if (below.length) drawTable(tableBox, below);
}

function figure(name, value, extra = "") {
  return h("div", { class: "figure" }, h("dt", {}, name), h("dd", {}, value, extra ? h("small", {}, ` ${extra}`) : null));
}

function drawTable(box, rows) {
  const value = (row) => (sort.key === "name" ? nameOf(row) : COLUMNS.find(([k]) => k === sort.key)[1](row.stats));
  const sorted = [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return sort.descending ? -order : order;
  });
  const header = (key, text) => h("th", { scope: "col", "aria-sort": sort.key === key ? (sort.descending ? "descending" : "ascending") : "none" },
    h("button", { type: "button", class: "sort", "data-sort": key,
      onclick: () => { sort = { key, descending: sort.key === key ? !sort.descending : key !== "name" }; drawTable(box, rows);
        box.querySelector(`button[data-sort="${key}"]`).focus(); } },
    text, sort.key === key ? (sort.descending ? " ▼" : " ▲") : ""));
  fill(box, h("table", { class: "units" },
    h("thead", {}, h("tr", {}, header("name", t("unit.name")), COLUMNS.map(([key]) => header(key, t(`stat.${key}`))))),
    h("tbody", {}, sorted.map((row) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: href("unit", row.code) }, nameOf(row)), h("small", { class: "code" }, row.code)),
      COLUMNS.map(([key, get]) => h("td", { class: "n", "data-label": t(`stat.${key}`) }, count(get(row.stats)))))))));
}
