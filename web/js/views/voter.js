// A voter's card: roll fields, schemes, consent, and the fields hidden for this role marked as
// hidden. With voter.write: the survey form, scheme enrolment and erasure (with a confirmation
// step). One GraphQL request to show; each save answers with the voter, which redraws the card.
import { graphql } from "../api.js";
import { clearErrors, field, fill, h, options } from "../dom.js";
import { label, nameOf, t } from "../i18n.js";
import { href } from "../router.js";
import { can } from "../session.js";
import { empty, showError } from "./common.js";

export const VOTER_FIELDS = `epicNumber serialNumber name nameHi relativeName age gender houseNumber
  booth { code name nameHi } phone casteCategory caste economicStatus contactConsent
  schemes { scheme { code name nameHi } since } redactedFields`;
const QUERY = `query Voter($epic: String!) { voter(epicNumber: $epic) { ${VOTER_FIELDS} } schemes { code name nameHi } }`;
const UPDATE = `mutation Survey($input: VoterSurveyInput!) { updateVoterSurvey(input: $input) { ${VOTER_FIELDS} } }`;
const ENROL = `mutation Enrol($epic: String!, $scheme: String!, $since: String) {
  enrollBeneficiary(epicNumber: $epic, scheme: $scheme, since: $since) { ${VOTER_FIELDS} } }`;
const ERASE = `mutation Erase($epic: String!) { eraseVoterPersonalData(epicNumber: $epic) { ${VOTER_FIELDS} } }`;

export async function voterView(main, route, view) {
  const data = await graphql(QUERY, { epic: route.arg });
  if (!view.isCurrent()) return;
  if (!data.voter) { fill(main, empty(t("voter.absent"))); return; }
  draw(main, data.voter, data.schemes, view);
}

function draw(main, voter, schemes, view, saved = "") {
  const forms = can("voter.write") ? [surveyForm(main, voter, schemes, view), enrolForm(main, voter, schemes, view), eraseForm(main, voter, schemes, view)] : [];
  fill(main,
    h("p", {}, h("a", { href: href("voters", voter.booth.code) }, `← ${t("voter.backToBooth", { booth: nameOf(voter.booth) })}`)),
    saved ? h("p", { class: "notice ok", role: "status" }, saved) : null,
    voterCard(voter), forms);
}

/** The card: what the viewer may see; withheld fields say so. */
export function voterCard(voter, { tel = false } = {}) {
  const hidden = new Set(voter.redactedFields);
  const value = (name, text) => (hidden.has(name) && (text === null || text === undefined)
    ? h("span", { class: "hidden-field" }, t("field.hidden")) : text ?? "—");
  const phone = voter.phone && tel && !hidden.has("phone")
    ? h("a", { class: "tel button", href: `tel:${voter.phone}` }, voter.phone) : value("phone", voter.phone);
  const rows = [
    ["voter.epic", voter.epicNumber],
    ["voter.booth", `${nameOf(voter.booth)} · ${t("voter.serial")} ${voter.serialNumber}`],
    ["voter.relative", voter.relativeName ?? "—"],
    ["voter.age", voter.age ?? "—"],
    ["voter.gender", label("gender", voter.gender)],
    ["voter.house", voter.houseNumber || "—"],
    ["voter.phone", phone],
    ["voter.consent", label("consent", voter.contactConsent)],
    ["voter.casteCategory", value("casteCategory", voter.casteCategory && label("casteCategory", voter.casteCategory))],
    ["voter.caste", value("caste", voter.caste)],
    ["voter.economicStatus", value("economicStatus", voter.economicStatus && label("economicStatus", voter.economicStatus))],
  ];
  if (tel) rows.splice(8, 3);  // on a call: what the caller needs, not the withheld survey fields
  if (hidden.has("phone") && voter.phone) rows[6][1] = h("span", {}, voter.phone, " ", h("small", { class: "hidden-field" }, t("field.masked")));
  return h("article", { class: "card voter-card", "aria-labelledby": "voter-name" },
    h("h1", { id: "voter-name" }, nameOf(voter), voter.nameHi && voter.name !== nameOf(voter) ? h("small", {}, ` ${voter.name}`) : voter.nameHi ? h("small", { lang: "hi" }, ` ${voter.nameHi}`) : null),
    h("dl", { class: "fields" }, rows.map(([key, v]) => [h("dt", {}, t(key)), h("dd", { "data-name": key.slice(6) }, v)])),
    h("h2", {}, t("voter.schemes")),
    voter.schemes.length
      ? h("ul", { class: "schemes" }, voter.schemes.map((b) => h("li", {}, nameOf(b.scheme), b.since ? h("small", {}, ` · ${t("voter.since")} ${b.since}`) : null)))
      : empty(t("voter.noSchemes")));
}

function saver(main, schemes, view, form, box, mutation, variables, pick, message) {
  return async (event) => {
    event.preventDefault();
    clearErrors(form);
    fill(box);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const data = await graphql(mutation, variables());
      if (view.isCurrent()) draw(main, pick(data), schemes, view, message);
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") return;
      showError(error, form, box);
      button.disabled = false;
    }
  };
}

function surveyForm(main, voter, schemes, view) {
  const box = h("div");
  const enumSelect = (name, kind, values, current) => h("select", { name }, options([["", t("filter.none")], ...values.map((v) => [v, label(kind, v)])], current || ""));
  const form = h("form", { class: "card", id: "survey", "aria-labelledby": "survey-title" },
    h("h2", { id: "survey-title" }, t("survey.title")),
    h("div", { class: "filter-grid" },
      field(t("voter.phone"), h("input", { name: "phone", type: "tel", inputmode: "numeric", autocomplete: "off", value: voter.redactedFields.includes("phone") ? "" : voter.phone || "", placeholder: "9876543210" }), t("survey.phoneHint")),
      field(t("voter.casteCategory"), enumSelect("casteCategory", "casteCategory", ["GEN", "OBC", "SC", "ST"], voter.casteCategory)),
      field(t("voter.caste"), h("input", { name: "caste", value: voter.caste || "", placeholder: "OBC-03" })),
      field(t("voter.economicStatus"), enumSelect("economicStatus", "economicStatus", ["BPL", "LOW_INCOME", "MIDDLE_INCOME", "HIGH_INCOME"], voter.economicStatus)),
      field(t("voter.consent"), enumSelect("contactConsent", "consent", ["GRANTED", "DENIED", "UNKNOWN"], voter.contactConsent))),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("survey.save"))));
  form.addEventListener("submit", saver(main, schemes, view, form, box, UPDATE, () => {
    const values = Object.fromEntries(new FormData(form));
    const input = { epicNumber: voter.epicNumber };
    for (const name of ["phone", "casteCategory", "caste", "economicStatus", "contactConsent"]) {
      if (values[name]) input[name] = values[name].trim();
    }
    return { input };
  }, (d) => d.updateVoterSurvey, t("survey.saved")));
  return form;
}

function enrolForm(main, voter, schemes, view) {
  const box = h("div");
  const have = new Set(voter.schemes.map((b) => b.scheme.code));
  const form = h("form", { class: "card", id: "enrol" },
    h("h2", {}, t("enrol.title")),
    h("div", { class: "filter-grid" },
      field(t("filter.scheme"), h("select", { name: "scheme", required: true }, options(schemes.filter((s) => !have.has(s.code)).map((s) => [s.code, nameOf(s)])))),
      field(t("enrol.since"), h("input", { name: "since", type: "date" }))),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("enrol.save"))));
  form.addEventListener("submit", saver(main, schemes, view, form, box, ENROL, () => {
    const values = Object.fromEntries(new FormData(form));
    return { epic: voter.epicNumber, scheme: values.scheme, since: values.since || null };
  }, (d) => d.enrollBeneficiary, t("enrol.saved")));
  return form;
}

function eraseForm(main, voter, schemes, view) {
  const box = h("div");
  const confirm = h("input", { name: "confirm", type: "checkbox", required: true });
  const form = h("form", { class: "card danger", id: "erase" },
    h("h2", {}, t("erase.title")),
    h("p", {}, t("erase.explain")),
    h("div", { class: "field", "data-field": "confirm" }, h("label", { class: "check" }, confirm, " ", t("erase.confirm", { name: nameOf(voter) })),
      h("span", { class: "field-error", role: "alert" })),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "danger" }, t("erase.do"))));
  form.addEventListener("submit", saver(main, schemes, view, form, box, ERASE, () => ({ epic: voter.epicNumber }),
    (d) => d.eraseVoterPersonalData, t("erase.done")));
  return form;
}
