// The query console: GraphiQL needs a CDN, so offline officials use this one (issue 18 §4). Query
// and variables editors with line numbers, run with the viewer's own token (the API decides what
// they may do), the answer pretty-printed with its error codes, a schema browser built from
// introspection, and the tab's history in sessionStorage. Nothing here comes from another origin.
import { graphqlRaw } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";

const HISTORY_KEY = "boothgraph.console.history";
const HISTORY_MAX = 20;
const START = "query Me {\n  me { id name permissions roots { code name level } }\n}\n";
const REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
const INTROSPECTION = `query ConsoleSchema { __schema { queryType { name } mutationType { name }
  types { kind name description
    fields { name description args { name description type { ${REF} } defaultValue } type { ${REF} } }
    inputFields { name description type { ${REF} } defaultValue } enumValues { name description } } } }`;

let schemaTypes = null;  // name -> type, once introspected (per page load)

export async function consoleView(main) {
  const last = history()[0];
  const query = editor("query", t("console.query"), last ? last.query : START, 12);
  const variables = editor("variables", t("console.variables"), last ? last.variables : "{}", 4);
  const result = h("pre", { class: "console-result", id: "console-result", tabindex: "0", "aria-live": "polite" });
  const errors = h("div", { id: "console-errors" });
  const past = h("ol", { class: "console-history", id: "console-history" });
  const browser = h("div", { class: "schema-browser", id: "schema-browser" });
  const run = async () => {
    fill(errors);
    let vars = {};
    try {
      vars = variables.text.value.trim() ? JSON.parse(variables.text.value) : {};
    } catch (e) {
      fill(errors, h("p", { class: "error", role: "alert" }, t("console.badVariables"), h("span", { class: "detail" }, ` (${e.message})`)));
      return;
    }
    button.disabled = true;
    try {
      const { status, body } = await graphqlRaw(query.text.value, vars);
      result.textContent = JSON.stringify(body, null, 2);
      const list = (body && body.errors) || [];
      fill(errors, list.length ? h("ul", { class: "console-errors", role: "alert" }, list.map((e) => h("li", {},
        h("code", {}, (e.extensions && e.extensions.code) || `HTTP ${status}`), " ", e.message,
        e.path ? h("small", {}, ` · ${e.path.join(".")}`) : null))) : null);
      remember(query.text.value, variables.text.value);
      showHistory(past, query, variables);
    } catch (error) {
      fill(errors, h("p", { class: "error", role: "alert" }, h("code", {}, error.code), " ", error.message));
    } finally {
      button.disabled = false;
    }
  };
  const button = h("button", { type: "button", class: "primary", id: "console-run", onclick: run }, t("console.run"));
  query.text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  showHistory(past, query, variables);
  fill(main,
    h("h1", {}, t("console.title")),
    h("p", { class: "note" }, t("console.help")),
    h("div", { class: "console" },
      h("section", { class: "console-edit", "aria-label": t("console.editors") }, query.box, variables.box,
        h("div", { class: "form-actions" }, button, h("small", { class: "hint" }, t("console.shortcut"))), errors,
        h("h2", {}, t("console.result")), result),
      h("section", { class: "console-side" },
        h("h2", {}, t("console.schema")), browser,
        h("h2", {}, t("console.history")), past)));
  await showSchema(browser);
}

/** A textarea with a gutter of line numbers that follows its scrolling. */
function editor(name, title, value, rows) {
  const id = `console-${name}`;
  const gutter = h("pre", { class: "gutter", "aria-hidden": "true" });
  const text = h("textarea", { id, name, rows, spellcheck: "false", autocapitalize: "off", autocomplete: "off", class: "code-input", wrap: "off" });
  text.value = value;
  const number = () => { gutter.textContent = Array.from({ length: text.value.split("\n").length }, (_, i) => i + 1).join("\n"); };
  text.addEventListener("input", number);
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  number();
  return { text, box: h("div", { class: "field" }, h("label", { for: id }, title), h("div", { class: "code-editor" }, gutter, text)) };
}

function history() {
  try { return JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]"); } catch { return []; }
}

function remember(query, variables) {
  const rest = history().filter((e) => e.query !== query || e.variables !== variables);
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify([{ query, variables }, ...rest].slice(0, HISTORY_MAX)));
}

function showHistory(list, query, variables) {
  const entries = history();
  fill(list, entries.length ? entries.map((e) => h("li", {}, h("button", { type: "button", class: "link",
    onclick: () => { query.text.value = e.query; variables.text.value = e.variables; query.text.dispatchEvent(new Event("input")); variables.text.dispatchEvent(new Event("input")); query.text.focus(); } },
  e.query.replace(/\s+/g, " ").trim().slice(0, 80)))) : h("li", { class: "empty" }, t("console.noHistory")));
}

/** The schema from introspection: a filter, the type list, and one type's fields with links. */
async function showSchema(box) {
  if (!schemaTypes) {
    const { body } = await graphqlRaw(INTROSPECTION, {});
    if (!body || !body.data) { fill(box, h("p", { class: "error", role: "alert" }, t("console.noSchema"))); return; }
    const schema = body.data.__schema;
    schemaTypes = new Map(schema.types.filter((ty) => !ty.name.startsWith("__")).map((ty) => [ty.name, ty]));
    schemaTypes.roots = [schema.queryType && schema.queryType.name, schema.mutationType && schema.mutationType.name].filter(Boolean);
  }
  const detail = h("div", { class: "schema-type", id: "schema-type", tabindex: "-1" });
  const filter = h("input", { type: "search", id: "schema-filter", "aria-label": t("console.filter"), placeholder: t("console.filter") });
  const list = h("ul", { class: "schema-types" });
  const open = (name) => { showType(detail, name, open); detail.focus({ preventScroll: true }); };
  const shown = () => {
    const needle = filter.value.trim().toLowerCase();
    const names = [...schemaTypes.roots, ...[...schemaTypes.keys()].filter((n) => !schemaTypes.roots.includes(n)).sort()];
    fill(list, names.filter((n) => n.toLowerCase().includes(needle)).map((n) => h("li", {}, typeLink(n, open))));
  };
  filter.addEventListener("input", shown);
  shown();
  fill(box, filter, h("details", { class: "schema-list", open: true }, h("summary", {}, t("console.types")), list), detail);
  showType(detail, schemaTypes.roots[0], open);
}

function typeLink(name, open) {
  return h("button", { type: "button", class: "link type-link", "data-type": name, onclick: () => open(name) }, name);
}

/** `[Voter!]!` with the named type as a link. */
function typeRef(ref, open) {
  if (ref.kind === "NON_NULL") return [typeRef(ref.ofType, open), "!"];
  if (ref.kind === "LIST") return ["[", typeRef(ref.ofType, open), "]"];
  return typeLink(ref.name, open);
}

function showType(box, name, open) {
  const ty = schemaTypes.get(name);
  if (!ty) return;
  const describe = (text) => (text ? h("p", { class: "desc" }, text) : null);
  const members = ty.fields || ty.inputFields || [];
  fill(box,
    h("h3", {}, h("small", {}, ty.kind.toLowerCase(), " "), ty.name),
    describe(ty.description),
    members.length ? h("dl", { class: "schema-fields" }, members.map((f) => [
      h("dt", {}, h("code", {}, f.name,
        f.args && f.args.length ? ["(", f.args.map((a, i) => [i ? ", " : "", a.name, ": ", typeRef(a.type, open),
          a.defaultValue !== null && a.defaultValue !== undefined ? ` = ${a.defaultValue}` : ""]), ")"] : "",
        ": ", typeRef(f.type, open))),
      h("dd", {}, describe(f.description))])) : null,
    ty.enumValues ? h("ul", { class: "schema-enum" }, ty.enumValues.map((v) => h("li", {}, h("code", {}, v.name), v.description ? ` — ${v.description}` : ""))) : null);
}
