// The Model Code of Conduct's rules as the API gives them (`modelCodeRules`, from the policy data
// policies/model_code.toml), in the viewer's language with their source, so an official sees why
// something is refused or paused. Read at most once per page load.
import { graphql } from "./api.js";
import { h } from "./dom.js";
import { getLang, t } from "./i18n.js";

export const RULE_FIELDS = "code window hours title titleHi text textHi source sourceUrl";
export const ELECTION_FIELDS = "code name nameHi modelCodeFrom countingOn modelCodeInForce phases { unit { code name nameHi level } pollDate }";
let known = null;

export function keepRules(rules) { known = new Map(rules.map((r) => [r.code, r])); }

export async function ruleByCode(code) {
  if (!known) keepRules((await graphql(`query Rules { modelCodeRules { ${RULE_FIELDS} } }`)).modelCodeRules);
  return known.get(code) || null;
}

export function ruleTitle(rule) { return getLang() === "hi" ? rule.titleHi : rule.title; }
export function ruleText(rule) { return getLang() === "hi" ? rule.textHi : rule.text; }

/** A rule: its title and text in the viewer's language, the other language below, and its source. */
export function ruleCard(rule, tag = "h3") {
  const other = getLang() === "hi" ? "en" : "hi";
  return h("div", { class: "rule", "data-rule": rule.code },
    h(tag, {}, ruleTitle(rule)),
    h("p", {}, ruleText(rule)),
    h("p", { class: "other-lang", lang: other }, other === "hi" ? rule.textHi : rule.text),
    h("p", { class: "source" }, h("strong", {}, t("rules.source")), " ", h("span", { lang: "en" }, rule.source),
      rule.sourceUrl ? [" ", h("a", { href: rule.sourceUrl, rel: "noopener noreferrer", target: "_blank" }, t("rules.sourceLink"))] : null));
}

/** A unit code is under `ancestor` when it is that code or starts with it and a hyphen (UP-AWD-LKO-M01 under UP-AWD). */
export function under(code, ancestor) { return code === ancestor || code.startsWith(`${ancestor}-`); }

/** Elections whose Model Code is in force today over the unit `code` (the server decides refusals; this only explains). */
export function inForceOver(elections, code) {
  return elections.filter((e) => e.modelCodeInForce && e.phases.some((p) => under(code, p.unit.code) || under(p.unit.code, code)));
}
