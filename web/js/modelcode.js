// The Model Code's rules as the API gives them (modelCodeRules: policies/model_code.toml), in both
// languages with their source, so an official sees why something is refused or paused.
import { graphql } from "./api.js";
import { h } from "./dom.js";
import { getLang, t } from "./i18n.js";

export const RULE_FIELDS = "code title titleHi text textHi source sourceUrl";
export const ELECTION_FIELDS = "code name nameHi modelCodeFrom countingOn modelCodeInForce phases { unit { code name nameHi } pollDate }";
let known = null;

export function keepRules(rules) { known = new Map(rules.map((r) => [r.code, r])); }

export async function ruleByCode(code) {
  if (!known) keepRules((await graphql(`query Rules { modelCodeRules { ${RULE_FIELDS} } }`)).modelCodeRules);
  return known.get(code) || null;
}

export function ruleText(rule) { return getLang() === "hi" ? rule.textHi : rule.text; }

/** A rule: its title and text in the viewer's language, the other language below, and its source. */
export function ruleCard(rule, tag = "h3") {
  const other = getLang() === "hi" ? "en" : "hi";
  return h("div", { class: "rule", "data-rule": rule.code },
    h(tag, {}, getLang() === "hi" ? rule.titleHi : rule.title),
    h("p", {}, ruleText(rule)),
    h("p", { class: "other-lang", lang: other }, other === "hi" ? rule.textHi : rule.text),
    h("p", { class: "source" }, h("strong", {}, t("rules.source")), " ", h("span", { lang: "en" }, rule.source),
      rule.sourceUrl ? [" ", h("a", { href: rule.sourceUrl, rel: "noopener noreferrer", target: "_blank" }, t("rules.sourceLink"))] : null));
}

/** Elections in force over unit `code` (codes nest: UP-AWD-LKO-M01 is under UP-AWD). Only to explain: the server refuses. */
export function inForceOver(elections, code) {
  const under = (a, b) => a === b || a.startsWith(`${b}-`);
  return elections.filter((e) => e.modelCodeInForce && e.phases.some((p) => under(code, p.unit.code) || under(p.unit.code, code)));
}
