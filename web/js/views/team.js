// Team (role.grant): who holds which role at a unit and below, grant and revoke. The server's
// rules (only lower roles, inside the scope, never oneself, each role at its level) answer with
// FORBIDDEN / BAD_USER_INPUT / NOT_FOUND, shown in words at the form. One request to show.
import { graphql } from "../api.js";
import { clearErrors, field, fill, h, options } from "../dom.js";
import { label, nameOf, num, t } from "../i18n.js";
import { go, href } from "../router.js";
import { session } from "../session.js";
import { empty, showError, table } from "./common.js";

const PAGE = 200;
const QUERY = `query Team($unit: String!, $after: String) {
  roleHolders(unit: $unit, first: ${PAGE}, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { userId userName assignment { id role unit { code name nameHi level } } } } }
}`;
const GRANT = `mutation Grant($userId: ID!, $role: Role!, $unit: String!) { grantRole(userId: $userId, role: $role, unit: $unit) { id role unit { code } } }`;
const REVOKE = `mutation Revoke($id: ID!) { revokeRole(assignmentId: $id) }`;
const ROLES = ["REGIONAL_PRESIDENT", "REGIONAL_INCHARGE", "DISTRICT_PRESIDENT", "DISTRICT_INCHARGE", "DISTRICT_CONVENOR",
  "DISTRICT_CO_CONVENOR", "IT_CONVENOR", "SOCIAL_MEDIA_CONVENOR", "OFFICE_SECRETARY", "MANDAL_PRESIDENT", "BOOTH_PRESIDENT", "CALLER"];

export async function teamView(main, route, view) {
  const unit = route.query.get("unit") || (session.me.roots[0] && session.me.roots[0].code) || "";
  const data = await graphql(QUERY, { unit });
  if (!view.isCurrent()) return;
  const holders = data.roleHolders.edges.map((e) => e.node);
  const message = route.query.get("done");
  const listBox = h("div");
  const pick = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go("team", null, { unit: new FormData(pick).get("unit").trim() }); } },
    h("div", { class: "filter-grid" }, field(t("team.unit"), h("input", { name: "unit", value: unit, autocomplete: "off" }))),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("team.show"))));
  const row = (r) => h("tr", {},
    h("th", { scope: "row" }, r.userName, h("small", { class: "code" }, r.userId)),
    h("td", { "data-label": t("team.role") }, label("role", r.assignment.role)),
    h("td", { "data-label": t("campaign.unit") }, nameOf(r.assignment.unit), " ", h("small", {}, r.assignment.unit.code)),
    h("td", { class: "act" }, r.userId === session.me.id ? "" : h("button", { type: "button", class: "secondary small",
      onclick: (event) => revoke(event.target, r, listBox, view, unit) }, t("team.revoke"))));
  const list = table("team", ["team.user", "team.role", "campaign.unit", ""], holders.map(row));
  const body = list.querySelector("tbody");
  const total = data.roleHolders.totalCount;
  const shown = h("p", { class: "note", id: "team-shown", role: "status" });
  let page = data.roleHolders.pageInfo;
  // past the first page: the next one appended on request (keyset cursor), never all at once
  const more = h("button", { type: "button", class: "secondary", id: "team-more", onclick: async () => {
    more.disabled = true;
    try {
      const next = (await graphql(QUERY, { unit, after: page.endCursor })).roleHolders;
      body.append(...next.edges.map((e) => row(e.node)));
      page = next.pageInfo;
      count();
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") showError(error, null, shown);
    } finally {
      more.disabled = false;
    }
  } }, t("team.more"));
  const count = () => { shown.textContent = t("team.shown", { n: num(body.children.length), total: num(total) }); more.hidden = !page.hasNextPage; };
  count();
  fill(listBox, holders.length ? [list, page.hasNextPage ? shown : null, more] : empty(t("team.none")));
  fill(main, h("h1", {}, t("team.title")), message ? h("p", { class: "notice ok", role: "status" }, message) : null, pick,
    grantForm(view, unit), h("h2", {}, t("team.holders"), " ", h("small", {}, `(${num(data.roleHolders.totalCount)})`)), listBox);
}

async function revoke(button, holder, box, view, unit) {
  button.disabled = true;
  try {
    await graphql(REVOKE, { id: holder.assignment.id });
    done(view, unit, t("team.revoked"));
  } catch (error) {
    button.disabled = false;
    if (error.code !== "UNAUTHENTICATED") {
      const note = h("div");
      box.prepend(note);
      refused(error, null, note);
    }
  }
}

/** The grant rules' refusals in words (service.md: grantRole / revokeRole). */
function refusals() {
  return { NOT_FOUND: t("team.notFound"), FORBIDDEN: t("team.forbidden"), BAD_USER_INPUT: t("team.badInput") };
}

/** The server's sentences (resolvers/roles.py) name role codes in English: the two that do, in
 * words of the viewer's language; any other refusal in its code's general words only. */
const REASONS = [
  [/^(\w+) may only be assigned at level (\w+)$/, (m) => t("team.onlyAtLevel", { role: label("role", m[1]), level: label("level", m[2]) })],
  [/lower rank than your own \((\w+) is not\)/, (m) => t("team.lowerRank", { role: label("role", m[1]) })],
];

function refused(error, form, box) {
  let reason = null;
  for (const [pattern, words] of REASONS) { const m = pattern.exec(error.message); if (m) reason = words(m); }
  showError(Object.assign(Object.create(Object.getPrototypeOf(error)), error, { message: "" }), form, box,
    reason ? { [error.code]: reason } : refusals());
}

function done(view, unit, message) {
  const next = href("team", null, { unit, done: message });
  if (location.hash === next) view.rerender(); else location.hash = next;
}

function grantForm(view, unit) {
  const box = h("div");
  const form = h("form", { class: "card", id: "grant" },
    h("h2", {}, t("team.grant")),
    h("p", { class: "note" }, t("team.rules")),
    h("div", { class: "filter-grid" },
      field(t("team.userId"), h("input", { name: "userId", required: true, placeholder: "u-000123", autocomplete: "off" })),
      field(t("team.role"), h("select", { name: "role" }, options(ROLES.map((r) => [r, label("role", r)])))),
      field(t("team.unit"), h("input", { name: "unit", required: true, value: unit, autocomplete: "off" }))),
    box, h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, t("team.grantDo"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = Object.fromEntries(new FormData(form));
    try {
      const made = (await graphql(GRANT, { userId: values.userId.trim(), role: values.role, unit: values.unit.trim() })).grantRole;
      done(view, unit, t("team.granted", { role: label("role", made.role), user: values.userId.trim(), unit: made.unit.code }));
    } catch (error) {
      if (error.code !== "UNAUTHENTICATED") refused(error, form, box);
    }
  });
  return form;
}
