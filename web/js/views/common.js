// Pieces several views share: breadcrumbs, the unit heading, scheme names, error display.
import { printout } from "../api.js";
import { fieldError, fill, h } from "../dom.js";
import { errorText, label, nameOf, t } from "../i18n.js";
import { href } from "../router.js";
import { session } from "../session.js";

/** The codes of the units the viewer is assigned at: a unit at or below one of them is visible. */
function assignedCodes() {
  return new Set(session.me.assignments.map((a) => a.unit.code));
}

/** Breadcrumbs of `unit` (with its `path`): only visible units (at or below an assignment) are links. */
export function crumbs(unit, route = "unit") {
  const chain = [...unit.path, unit];
  const assigned = assignedCodes();
  const firstVisible = chain.findIndex((u) => assigned.has(u.code));
  const items = chain.map((u, i) => {
    const visible = firstVisible !== -1 && i >= firstVisible;
    const text = nameOf(u);
    if (i === chain.length - 1) return h("li", {}, h("span", { "aria-current": "page" }, text));
    return h("li", {}, visible ? h("a", { href: href(route, u.code) }, text) : h("span", { class: "above" }, text));
  });
  return h("nav", { class: "crumbs", "aria-label": t("crumbs.label") }, h("ol", {}, items));
}

export function unitTitle(unit) {
  return h("h1", {}, nameOf(unit), " ", h("small", {}, `${label("level", unit.level)} · ${unit.code}`));
}

/** Links to a list's first and next page; the last action's notice (`done`) stays behind. */
export function pager(view, arg, q, info) {
  const page = Number(q.get("page") || 1);
  const to = (at) => href(view, arg, { ...Object.fromEntries(q), done: null, ...at });
  return h("p", { class: "pager" },
    page > 1 ? h("a", { class: "button secondary", href: to({ after: null, page: null }) }, t("pager.first")) : null,
    info.hasNextPage ? h("a", { class: "button", rel: "next", href: to({ after: info.endCursor, page: page + 1 }) }, t("pager.next")) : null);
}

/** A table under headings (catalogue keys): on a phone, a card per row. */
export function table(cls, heads, rows, caption) {
  return h("div", { class: "table-wrap" }, h("table", { class: cls }, caption && h("caption", {}, caption),
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, rows)));
}

export function schemeNames(schemes) {
  return new Map(schemes.map((s) => [s.code, nameOf(s)]));
}

/** Show an API error: at its field in `form` when the server names one, else in `box`.
 * The words: `words[code]` of the view, else the catalogue's `error.CODE.argument`, else `error.CODE`;
 * the server's own message follows as the detail. */
export function showError(error, form, box, words = {}) {
  const argumentName = error.extensions && error.extensions.argument;
  const specific = argumentName ? t(`error.${error.code}.${argumentName}`) : "";
  const text = words[error.code] || (specific && !specific.startsWith("error.") ? specific : errorText(error));
  // A Model Code refusal names its rule: the rule's own words (both languages, its source) replace
  // the server's English sentence.
  const rule = error.code === "MODEL_CODE_IN_FORCE" && error.extensions && error.extensions.rule;
  const detail = !rule && error.message && text !== error.message ? error.message : "";
  const argument = error.extensions && (error.extensions.argument || (error.extensions.fields || [])[0]);
  if (form && argument && fieldError(form, String(argument).replace(/^input\./, ""), detail ? `${text} ${detail}` : text)) {
    if (box) fill(box);
    return;
  }
  if (!box) return;
  const alert = h("div", { class: "error", role: "alert" }, h("p", {}, text, detail ? h("span", { class: "detail" }, ` (${detail})`) : null));
  fill(box, alert);
  if (rule) {
    import("../modelcode.js").then(async (m) => { const found = await m.ruleByCode(rule); if (found) alert.append(m.ruleCard(found, "strong")); })
      .catch(() => { /* the code's words are already shown */ });
  }
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** Buttons for the walk list and the voter slips of a booth (or of one of its roll pages). */
export function printButtons(code, page) {
  const note = h("span", { class: "error", role: "alert" });
  const button = (kind) => h("button", { type: "button", class: "secondary", "data-printout": `${kind}:${code}${page ? `:${page}` : ""}`,
    onclick: async () => {
      note.textContent = "";
      try { await printout(kind, code, page); } catch (error) { if (error.code !== "UNAUTHENTICATED") note.textContent = errorText(error); }
    } }, t(`print.${kind}`), page ? ` · ${t("print.page", { page })}` : "");
  return h("span", { class: "printouts" }, button("walklist"), button("slips"), note);
}
