// Campaigns (outreach.manage): the campaigns of the viewer's scope with their progress, a form
// to create one, and a form per campaign to assign calls to a caller. One GraphQL request to show.
import { graphql } from "../api.js";
import { clearErrors, field, fill, h, options } from "../dom.js";
import { label, nameOf, num, t } from "../i18n.js";
import { barChart, progress } from "../charts.js";
import { session } from "../session.js";
import { empty, showError, table } from "./common.js";

const QUERY = `query Campaigns {
  campaigns(first: 50) { totalCount edges { node { id name open opensOn closesOn
    unit { code name nameHi } schemes { code name nameHi }
    progress { assigned called byOutcome { key count } } } } }
  schemes { code name nameHi }
}`;
const CREATE = `mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id name } }`;
const ASSIGN = `mutation Assign($input: AssignCallsInput!) { assignCalls(input: $input) }`;

export async function campaignsView(main, route, view) {
  const data = await graphql(QUERY);
  if (!view.isCurrent()) return;
  const campaigns = data.campaigns.edges.map((e) => e.node);
  // The second request: progress per caller of up to 20 campaigns, one alias each.
  const shown = campaigns.slice(0, 20);
  const perCaller = shown.length ? await graphql(`query Callers(${shown.map((_, i) => `$c${i}: ID!`).join(", ")}) {
    ${shown.map((_, i) => `c${i}: campaignCallers(campaignId: $c${i}) { callerId callerName assigned called reached }`).join("\n")} }`,
  Object.fromEntries(shown.map((c, i) => [`c${i}`, c.id]))) : {};
  if (!view.isCurrent()) return;
  shown.forEach((c, i) => { c.callers = perCaller[`c${i}`]; });
  const message = route.query.get("done");
  fill(main,
    h("h1", {}, t("campaigns.title")),
    message ? h("p", { class: "notice ok", role: "status" }, message) : null,
    campaigns.length ? campaigns.map((c) => campaignCard(c, view)) : empty(t("campaigns.none")),
    createForm(data.schemes, view));
}

function units() {
  const seen = new Map();
  for (const a of session.me.assignments) if (["STATE", "REGION", "DISTRICT", "MANDAL"].includes(a.unit.level)) seen.set(a.unit.code, a.unit);
  return [...seen.values()];
}

function campaignCard(c, view) {
  const box = h("div");
  const form = h("form", { class: "assign", "data-campaign": c.id },
    h("h3", {}, t("assign.title")),
    h("div", { class: "filter-grid" },
      field(t("assign.caller"), h("input", { name: "callerId", required: true, placeholder: "u-000123", autocomplete: "off" }), t("assign.callerHint")),
      field(t("assign.unit"), h("input", { name: "unit", placeholder: c.unit.code, autocomplete: "off" }), t("assign.unitHint")),
      field(t("assign.limit"), h("input", { name: "limit", type: "number", min: 1, max: 1000, value: 50, inputmode: "numeric" }))),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("assign.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = Object.fromEntries(new FormData(form));
    const input = { campaignId: c.id, callerId: values.callerId.trim(), limit: Number(values.limit || 50) };
    if (values.unit.trim()) input.unit = values.unit.trim();
    try {
      const n = (await graphql(ASSIGN, { input })).assignCalls;
      done(view, t("assign.done", { n: num(n), caller: input.callerId, name: c.name }));
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, form, box);
    }
  });
  return h("article", { class: "card campaign" },
    h("h2", {}, c.name, " ", h("span", { class: c.open ? "pill open" : "pill" }, c.open ? t("campaign.open") : t("campaign.closed"))),
    h("p", {}, `${nameOf(c.unit)} (${c.unit.code}) · ${c.opensOn} – ${c.closesOn}`),
    h("p", { class: "note" }, t("campaign.schemes"), ": ", c.schemes.map(nameOf).join(", ")),
    h("div", { class: "charts" }, progress(t("chart.outreach"), c.progress.called, c.progress.assigned),
      barChart(t("chart.outcomes"), c.progress.byOutcome.map((b) => ({ label: label("outcome", b.key), count: b.count })))),
    c.callers && c.callers.length ? callersTable(c.callers) : null,
    c.open ? form : null);
}

function callersTable(callers) {
  return table("callers", ["team.user", "stat.assigned", "stat.called", "campaign.reached"], callers.map((r) => h("tr", {},
    h("th", { scope: "row" }, r.callerName, h("small", { class: "code" }, r.callerId)),
    h("td", { class: "n" }, num(r.assigned)), h("td", { class: "n" }, num(r.called)), h("td", { class: "n" }, num(r.reached)))),
    t("campaign.perCaller"));
}

function done(view, message) {
  const next = `#/campaigns?done=${encodeURIComponent(message)}`;
  if (location.hash === next) view.rerender(); else location.hash = next;
}

function createForm(schemes, view) {
  const box = h("div");
  const today = new Date().toISOString().slice(0, 10);
  const month = new Date(Date.now() + 30 * 864e5).toISOString().slice(0, 10);
  const mine = units();
  const form = h("form", { class: "card", id: "create-campaign" },
    h("h2", {}, t("campaign.create")),
    h("div", { class: "filter-grid" },
      field(t("campaign.name"), h("input", { name: "name", required: true, maxlength: 200 })),
      field(t("campaign.unit"), mine.length > 1 || !mine.length
        ? h("input", { name: "unit", required: true, value: mine[0] ? mine[0].code : "" })
        : h("select", { name: "unit" }, options(mine.map((u) => [u.code, `${nameOf(u)} (${u.code})`])))),
      field(t("campaign.opensOn"), h("input", { name: "opensOn", type: "date", required: true, value: today })),
      field(t("campaign.closesOn"), h("input", { name: "closesOn", type: "date", required: true, value: month }))),
    h("fieldset", { class: "choices", "data-field": "schemes" }, h("legend", {}, t("campaign.schemes")),
      schemes.map((s) => h("label", { class: "choice" }, h("input", { type: "checkbox", name: "schemes", value: s.code }), h("span", {}, nameOf(s)))),
      h("span", { class: "field-error", role: "alert" })),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("campaign.createDo"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const input = { name: String(data.get("name")).trim(), unit: String(data.get("unit")).trim(), schemes: data.getAll("schemes"),
      opensOn: data.get("opensOn"), closesOn: data.get("closesOn") };
    try {
      const made = (await graphql(CREATE, { input })).createCampaign;
      done(view, t("campaign.created", { name: made.name }));
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, form, box);
    }
  });
  return form;
}
