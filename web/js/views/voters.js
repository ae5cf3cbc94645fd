// Voters of a unit: a page at a time (keyset cursors in the URL, so back and forward work),
// search by name in Latin or Devanagari script, and the filters the viewer may use (the
// sensitive ones only with voter.read_sensitive). One GraphQL request.
import { graphql } from "../api.js";
import { field, fill, h, options } from "../dom.js";
import { label, nameOf, num, t } from "../i18n.js";
import { go, href } from "../router.js";
import { can } from "../session.js";
import { crumbs, empty, pager, showError, table } from "./common.js";

const PAGE = 25;
const QUERY = `query Voters($unit: String!, $filter: VoterFilter, $order: VoterOrder, $after: String) {
  unit(code: $unit) { code name nameHi level path { code name nameHi level } }
  voters(unit: $unit, filter: $filter, orderBy: $order, first: ${PAGE}, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { epicNumber serialNumber name nameHi age gender phone contactConsent
      casteCategory economicStatus booth { code } redactedFields } }
  }
  schemes { code name nameHi }
}`;

const FILTERS = ["search", "gender", "ageMin", "ageMax", "hasPhone", "contactConsent", "scheme", "casteCategory", "economicStatus", "order"];

function filterOf(q) {
  const filter = {};
  if (q.get("search")) filter.search = q.get("search");
  if (q.get("gender")) filter.gender = q.get("gender");
  if (q.get("ageMin")) filter.ageMin = Number(q.get("ageMin"));
  if (q.get("ageMax")) filter.ageMax = Number(q.get("ageMax"));
  if (q.get("hasPhone")) filter.hasPhone = q.get("hasPhone") === "yes";
  if (q.get("contactConsent")) filter.contactConsent = q.get("contactConsent");
  if (q.get("scheme")) filter.schemes = [q.get("scheme")];
  if (q.get("casteCategory")) filter.casteCategory = [q.get("casteCategory")];
  if (q.get("economicStatus")) filter.economicStatus = [q.get("economicStatus")];
  return filter;
}

export async function votersView(main, route, view) {
  const q = route.query;
  const filterBox = h("div");
  const result = h("div", { class: "result" });
  fill(main, filterBox, result);
  let data;
  try {
    data = await graphql(QUERY, { unit: route.arg, filter: filterOf(q), order: q.get("order") || "SERIAL", after: q.get("after") || null });
  } catch (error) {
    if (!view.isCurrent()) return;
    if (error.code === "UNAUTHENTICATED") throw error;
    fill(filterBox, filtersForm(route, []));
    showError(error, filterBox.querySelector("form"), result);
    return;
  }
  if (!view.isCurrent()) return;
  if (!data.unit) { fill(main, empty(t("unit.absent"))); return; }
  fill(filterBox, crumbs(data.unit, "voters"), h("h1", {}, t("voters.title", { unit: nameOf(data.unit) })), filtersForm(route, data.schemes));
  const page = Number(q.get("page") || 1);
  const voters = data.voters;
  const rows = voters.edges.map(({ node: v }) => h("tr", {},
    h("td", { class: "n" }, v.serialNumber),
    h("th", { scope: "row" }, h("a", { href: href("voter", v.epicNumber) }, nameOf(v)), h("small", { class: "code" }, v.epicNumber)),
    h("td", { class: "n", "data-label": t("voter.age") }, v.age ?? "—"),
    h("td", { "data-label": t("voter.gender") }, label("gender", v.gender)),
    h("td", { "data-label": t("voter.booth") }, v.booth.code),
    h("td", { class: "phone", "data-label": t("voter.phone") }, v.phone ?? "—"),
    h("td", { "data-label": t("voter.casteCategory") }, v.redactedFields.includes("casteCategory") ? h("span", { class: "hidden-field" }, t("field.hidden")) : label("casteCategory", v.casteCategory)),
    h("td", { "data-label": t("voter.consent") }, label("consent", v.contactConsent))));
  fill(result,
    h("p", { class: "count", role: "status" }, t("voters.count", { n: num(voters.totalCount), page: num(page) })),
    voters.edges.length ? table("voters", ["serial", "name", "age", "gender", "booth", "phone", "casteCategory", "consent"].map((k) => `voter.${k}`), rows)
      : empty(t("voters.none")),
    pager("voters", route.arg, q, voters.pageInfo));
}

function filtersForm(route, schemes) {
  const q = route.query;
  const sensitive = can("voter.read_sensitive");
  const input = (name, type = "text", extra = {}) => h("input", { name, type, value: q.get(name) || "", ...extra });
  const select = (name, pairs) => h("select", { name }, options([["", t("filter.any")], ...pairs], q.get(name) || ""));
  const enumPairs = (kind, values) => values.map((v) => [v, label(kind, v)]);
  const form = h("form", { class: "filters", role: "search",
    onsubmit: (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      go("voters", route.arg, Object.fromEntries(FILTERS.map((k) => [k, values[k]]).filter(([, v]) => v)));
    } },
  field(t("filter.search"), input("search", "search", { placeholder: t("filter.searchHint"), lang: "" })),
  h("details", { open: [...q.keys()].some((k) => k !== "search" && k !== "after" && k !== "page") },
    h("summary", {}, t("filter.more")),
    h("div", { class: "filter-grid" },
      field(t("voter.gender"), select("gender", enumPairs("gender", ["MALE", "FEMALE", "THIRD_GENDER"]))),
      field(t("filter.ageMin"), input("ageMin", "number", { min: 18, max: 120, inputmode: "numeric" })),
      field(t("filter.ageMax"), input("ageMax", "number", { min: 18, max: 120, inputmode: "numeric" })),
      field(t("filter.hasPhone"), select("hasPhone", [["yes", t("yes")], ["no", t("no")]])),
      field(t("voter.consent"), select("contactConsent", enumPairs("consent", ["GRANTED", "DENIED", "UNKNOWN"]))),
      field(t("filter.scheme"), select("scheme", schemes.map((s) => [s.code, nameOf(s)]))),
      sensitive ? field(t("voter.casteCategory"), select("casteCategory", enumPairs("casteCategory", ["GEN", "OBC", "SC", "ST"]))) : null,
      sensitive ? field(t("voter.economicStatus"), select("economicStatus", enumPairs("economicStatus", ["BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"]))) : null,
      field(t("filter.order"), h("select", { name: "order" }, options([["SERIAL", t("order.SERIAL")], ["NAME", t("order.NAME")], ["AGE", t("order.AGE")]], q.get("order") || "SERIAL"))))),
  h("div", { class: "form-actions" },
    h("button", { type: "submit", class: "primary" }, t("filter.apply")),
    h("a", { class: "button secondary", href: href("voters", route.arg) }, t("filter.clear"))));
  return form;
}
