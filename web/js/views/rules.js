// The Model Code (issue 16): elections in force on the viewer's line, their polls, the rules. One request.
import { graphql } from "../api.js";
import { fill, h } from "../dom.js";
import { dateOnly, nameOf, t } from "../i18n.js";
import { ELECTION_FIELDS, RULE_FIELDS, keepRules, ruleCard } from "../modelcode.js";

const QUERY = `query Rules { elections { ${ELECTION_FIELDS} } modelCodeRules { ${RULE_FIELDS} } }`;

export async function rulesView(main, route, view) {
  const data = await graphql(QUERY);
  if (!view.isCurrent()) return;
  keepRules(data.modelCodeRules);
  const inForce = data.elections.filter((e) => e.modelCodeInForce);
  fill(main,
    h("h1", {}, t("rules.title")),
    inForce.length
      ? h("div", { class: "notice", id: "rules-in-force", role: "status" }, h("strong", {}, t("rules.inForce")),
        h("ul", {}, inForce.map((e) => h("li", {}, t("rules.election", { name: nameOf(e), from: dateOnly(e.modelCodeFrom), to: dateOnly(e.countingOn) }),
          h("ul", {}, e.phases.map((p) => h("li", {}, t("rules.poll", { unit: nameOf(p.unit), code: p.unit.code, date: dateOnly(p.pollDate) }))))))))
      : h("p", { class: "notice ok", id: "rules-in-force" }, t("rules.notInForce")),
    h("h2", {}, t("rules.list")),
    data.modelCodeRules.map((rule) => h("section", { class: "card" }, ruleCard(rule))));
}
