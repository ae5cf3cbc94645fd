// A caller's work: the call list (most urgent first, as the server orders it), the voter to
// call now with a tel: link, the log-call form with every field logCall takes, then the next
// voter. One GraphQL request to show, one to save.
import { graphql } from "../api.js";
import { clearErrors, field, fill, h } from "../dom.js";
import { dateOnly, dateTime, label, nameOf, num, t } from "../i18n.js";
import { ELECTION_FIELDS, RULE_FIELDS, inForceOver, keepRules, ruleCard, ruleText } from "../modelcode.js";
import { href } from "../router.js";
import { empty, showError } from "./common.js";
import { voterCard } from "./voter.js";

const QUERY = `query Calls {
  myCallList(first: 50) {
    totalCount callsToday
    edges { node { id campaign { id name }
      voter { epicNumber serialNumber name nameHi relativeName age gender houseNumber booth { code name nameHi }
        phone casteCategory caste economicStatus contactConsent schemes { scheme { code name nameHi } since } redactedFields }
      lastCall { outcome calledAt callerId } } }
    paused { rule { ${RULE_FIELDS} } entries pollDates }
  }
  elections { ${ELECTION_FIELDS} }
  modelCodeRules { ${RULE_FIELDS} }
}`;
const LOG = `mutation Log($input: CallLogInput!) { logCall(input: $input) { id outcome calledAt } }`;
const OUTCOMES = ["REACHED", "NO_ANSWER", "CALL_BACK", "WRONG_NUMBER", "REFUSED"];

export async function callsView(main, route, view) {
  const data = await graphql(QUERY);
  if (!view.isCurrent()) return;
  const entries = data.myCallList.edges.map((e) => e.node);
  const today = data.myCallList.callsToday;  // counted by the server over the whole list, not this page
  const waiting = entries.filter((e) => !e.lastCall || e.lastCall.outcome === "CALL_BACK").length;
  const chosen = entries.find((e) => e.id === route.query.get("entry"));
  const current = chosen || entries.find((e) => !e.lastCall || e.lastCall.outcome === "CALL_BACK");
  const saved = route.query.get("saved");
  keepRules(data.modelCodeRules);
  const paused = data.myCallList.paused;
  // the server names every date whose silence window holds now; the elections say which is a poll
  const polls = new Set(data.elections.flatMap((e) => e.phases.map((p) => p.pollDate)));
  const pollDates = paused ? paused.pollDates.filter((d) => polls.has(d)) : [];
  const pause = paused ? h("div", { class: "notice", id: "call-pause", role: "status" },
    h("p", {}, h("strong", {}, t("calls.paused", { n: num(paused.entries) })), " ",
      t("calls.pollDates", { dates: (pollDates.length ? pollDates : paused.pollDates).map(dateOnly).join(", ") })),
    ruleCard(paused.rule, "h2")) : null;
  const benefitRule = data.modelCodeRules.find((r) => r.code === "BENEFIT_REGISTRATION");
  fill(main,
    h("h1", {}, t("calls.title")),
    h("p", { class: "figures-line", id: "call-counts" },
      h("span", { class: "pill" }, t("calls.today", { n: num(today) })), " ",
      h("span", { class: "pill" }, t("calls.waiting", { n: num(waiting), total: num(data.myCallList.totalCount) }))),
    saved ? h("p", { class: "notice ok", role: "status" }, t("calls.saved")) : null,
    pause,
    current ? callPanel(current, view, inForceOver(data.elections, current.voter.booth.code).length ? benefitRule : null)
      : empty(entries.length ? t("calls.allDone") : paused ? t("calls.noneWhilePaused") : t("calls.none")),
    entries.length ? h("h2", {}, t("calls.list")) : null,
    entries.length ? h("ol", { class: "call-list" }, entries.map((e) => h("li", { class: e === current ? "current" : "" },
      h("a", { href: href("calls", null, { entry: e.id }), "aria-current": e === current ? "true" : null },
        h("strong", {}, nameOf(e.voter)), " ",
        h("small", {}, `${e.voter.booth.code} · ${e.voter.serialNumber}`),
        h("span", { class: "last" }, e.lastCall ? `${label("outcome", e.lastCall.outcome)} · ${dateTime(e.lastCall.calledAt)}` : t("calls.notYet")))))) : null);
}

/** `benefitRule`: the Model Code's BENEFIT_REGISTRATION rule when it is in force over the voter's
 * booth; the "benefit wanted" question is then greyed out, with the rule's words as the reason. */
function callPanel(entry, view, benefitRule) {
  const box = h("div");
  const radios = (name, pairs, required = false) => h("fieldset", { class: "choices", "data-field": name },
    h("legend", {}, t(`log.${name}`)),
    pairs.map(([value, text], i) => h("label", { class: "choice" },
      h("input", { type: "radio", name, value, required: required && i === 0 }), h("span", {}, text))),
    h("span", { class: "field-error", role: "alert" }));
  const form = h("form", { class: "card", id: "log-call", "aria-labelledby": "log-title" },
    h("h2", { id: "log-title" }, t("log.title")),
    radios("outcome", OUTCOMES.map((o) => [o, label("outcome", o)]), true),
    radios("benefitReceived", [["yes", t("yes")], ["no", t("no")], ["", t("log.unknown")]]),
    radios("satisfaction", [1, 2, 3, 4, 5].map((n) => [String(n), t(`log.satisfaction${n}`)])),
    field(t("log.problems"), h("textarea", { name: "problems", rows: 2, maxlength: 2000 })),
    field(t("log.desiredBenefit"), h("input", { name: "desiredBenefit", maxlength: 500, disabled: Boolean(benefitRule) }),
      benefitRule ? t("log.benefitPaused", { rule: ruleText(benefitRule) }) : null),
    field(t("log.notes"), h("textarea", { name: "notes", rows: 2, maxlength: 2000 })),
    box,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary big" }, t("log.save"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = Object.fromEntries(new FormData(form));
    const input = { assignmentId: entry.id, outcome: values.outcome };
    if (values.benefitReceived) input.benefitReceived = values.benefitReceived === "yes";
    if (values.satisfaction) input.satisfaction = Number(values.satisfaction);
    for (const name of ["problems", "desiredBenefit", "notes"]) if (values[name] && values[name].trim()) input[name] = values[name].trim();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await graphql(LOG, { input });
      const next = href("calls", null, { saved: entry.id });
      if (location.hash === next) view.rerender(); else location.hash = next;
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return;
      showError(error, form, box);
      button.disabled = false;
    }
  });
  return h("section", { class: "call-now", "aria-label": t("calls.now") },
    h("p", { class: "campaign" }, t("calls.campaign", { name: entry.campaign.name })),
    voterCard(entry.voter, { tel: true }), form);
}
