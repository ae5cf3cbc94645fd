// The audit log (audit.read), filtered by action and unit, a page at a time. One request.
import { graphql } from "../api.js";
import { field, fill, h, options } from "../dom.js";
import { dateTime, num, t } from "../i18n.js";
import { go, href } from "../router.js";
import { empty, pager, table } from "./common.js";

const QUERY = `query Audit($unit: String, $action: String, $after: String) {
  auditLog(unit: $unit, action: $action, first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id at userId action unitCode records detail } }
  }
}`;
export const ACTIONS = ["voter.read_contact", "voter.read_sensitive", "voter.write", "voter.erase", "beneficiary.enroll",
  "data.import", "data.import_refused", "data.export", "role.grant", "role.revoke", "outreach.campaign", "outreach.assign", "outreach.call"];

export async function auditView(main, route, view) {
  const q = route.query;
  const data = await graphql(QUERY, { unit: q.get("unit") || null, action: q.get("action") || null, after: q.get("after") || null });
  if (!view.isCurrent()) return;
  const log = data.auditLog;
  const form = h("form", { class: "filters", role: "search",
    onsubmit: (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      go("audit", null, { unit: values.unit.trim(), action: values.action });
    } },
  h("div", { class: "filter-grid" },
    field(t("audit.action"), h("select", { name: "action" }, options([["", t("filter.any")], ...ACTIONS.map((a) => [a, t(`action.${a}`)])], q.get("action") || ""))),
    field(t("audit.unit"), h("input", { name: "unit", value: q.get("unit") || "", autocomplete: "off" }))),
  h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("filter.apply")),
    h("a", { class: "button secondary", href: href("audit") }, t("filter.clear"))));
  const page = Number(q.get("page") || 1);
  fill(main, h("h1", {}, t("audit.title")), form,
    h("p", { class: "count", role: "status" }, t("audit.count", { n: num(log.totalCount), page: num(page) })),
    log.edges.length ? table("audit", ["at", "user", "action", "unit", "records", "detail"].map((k) => `audit.${k}`),
      log.edges.map(({ node: e }) => h("tr", {},
        h("td", { "data-label": t("audit.at") }, dateTime(e.at)), h("td", { "data-label": t("audit.user") }, e.userId),
        h("td", { "data-label": t("audit.action") }, h("span", { title: e.action }, t(`action.${e.action}`))),
        h("td", { "data-label": t("audit.unit") }, e.unitCode || "—"), h("td", { class: "n", "data-label": t("audit.records") }, num(e.records)),
        h("td", { class: "detail", "data-label": t("audit.detail") }, e.detail || "")))) : empty(t("audit.none")),
    pager("audit", null, q, log.pageInfo));
}
