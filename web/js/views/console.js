// The query console: GraphiQL needs a CDN; this works offline (issue 18 §4). The viewer's own
// token (the API decides), errors with codes, the schema from introspection, history per tab.
import { graphqlRaw } from "../api.js";
import { fill, h } from "../dom.js";
import { t } from "../i18n.js";

const KEY = "boothgraph.console.history";
const START = "query Me {\n  me { id name permissions roots { code name level } }\n}\n";
const REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
const INTROSPECTION = `query ConsoleSchema { __schema { queryType { name } mutationType { name } types { kind name description
  fields { name description args { name type { ${REF} } defaultValue } type { ${REF} } }
  inputFields { name description type { ${REF} } defaultValue } enumValues { name description } } } }`;
let types = null;  // name -> type, introspected once per page load
let roots = [];

export async function consoleView(main) {
  const [last] = history();
  const query = editor("query", t("console.query"), last ? last.query : START, 12);
  const vars = editor("variables", t("console.variables"), last ? last.variables : "{}", 4);
  const result = h("pre", { class: "console-result", id: "console-result", tabindex: "0" });
  const errors = h("div", { id: "console-errors" });
  const past = h("ol", { id: "console-history" });
  const side = h("div", { id: "schema-browser" });
  const alert = (...text) => fill(errors, h("p", { class: "error", role: "alert" }, ...text));
  const run = async () => {
    let variables;
    try { variables = vars.value.trim() ? JSON.parse(vars.value) : {}; } catch (e) { alert(t("console.badVariables"), ` (${e.message})`); return; }
    fill(errors);
    button.disabled = true;
    try {
      const { status, body } = await graphqlRaw(query.value, variables);
      result.textContent = JSON.stringify(body, null, 2);
      const list = (body && body.errors) || [];
      if (list.length) fill(errors, h("ul", { class: "console-errors", role: "alert" }, list.map((e) => h("li", {},
        h("code", {}, (e.extensions && e.extensions.code) || `HTTP ${status}`), " ", e.message, e.path ? ` · ${e.path.join(".")}` : ""))));
      sessionStorage.setItem(KEY, JSON.stringify([{ query: query.value, variables: vars.value },
        ...history().filter((e) => e.query !== query.value || e.variables !== vars.value)].slice(0, 20)));
      showHistory();
    } catch (error) {
      alert(h("code", {}, error.code), " ", error.message);
    } finally {
      button.disabled = false;
    }
  };
  const showHistory = () => fill(past, history().map((e) => h("li", {}, h("button", { type: "button", class: "link",
    onclick: () => { query.set(e.query); vars.set(e.variables); query.focus(); } }, e.query.replace(/\s+/g, " ").trim().slice(0, 80)))));
  const button = h("button", { type: "button", class: "primary", id: "console-run", onclick: run }, t("console.run"));
  query.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
  showHistory();
  fill(main, h("h1", {}, t("console.title")), h("p", { class: "note" }, t("console.help")),
    h("div", { class: "console" },
      h("section", {}, query.box, vars.box, h("div", { class: "form-actions" }, button, h("small", { class: "hint" }, t("console.shortcut"))),
        errors, h("h2", {}, t("console.result")), result),
      h("section", {}, h("h2", {}, t("console.schema")), side, h("h2", {}, t("console.history")), past)));
  await showSchema(side);
}

/** A textarea (`.box` holds it, its label and a gutter of line numbers that follows its scrolling). */
function editor(name, title, value, rows) {
  const gutter = h("pre", { class: "gutter", "aria-hidden": "true" });
  const text = h("textarea", { id: `console-${name}`, name, rows, spellcheck: "false", autocapitalize: "off", wrap: "off" });
  const number = () => { gutter.textContent = text.value.split("\n").map((_, i) => i + 1).join("\n"); };
  text.addEventListener("input", number);
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  text.set = (v) => { text.value = v; number(); };
  text.set(value);
  text.box = h("div", { class: "field" }, h("label", { for: text.id }, title), h("div", { class: "code-editor" }, gutter, text));
  return text;
}

function history() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || []; } catch { return []; }
}

/** A filter, the type list (the roots first), and one type's fields with their types as links. */
async function showSchema(box) {
  if (!types) {
    const { body } = await graphqlRaw(INTROSPECTION);
    if (!body || !body.data) { fill(box, h("p", { class: "error", role: "alert" }, t("console.noSchema"))); return; }
    const s = body.data.__schema;
    types = new Map(s.types.filter((ty) => !ty.name.startsWith("__")).map((ty) => [ty.name, ty]));
    roots = [s.queryType, s.mutationType].filter(Boolean).map((r) => r.name);
  }
  const detail = h("div", { class: "schema-type", id: "schema-type", tabindex: "-1" });
  const filter = h("input", { type: "search", id: "schema-filter", "aria-label": t("console.filter"), placeholder: t("console.filter") });
  const list = h("ul", { class: "schema-types" });
  const open = (name) => { showType(detail, name, open); detail.focus({ preventScroll: true }); };
  const names = [...roots, ...[...types.keys()].filter((n) => !roots.includes(n)).sort()];
  const shown = () => fill(list, names.filter((n) => n.toLowerCase().includes(filter.value.trim().toLowerCase())).map((n) => h("li", {}, link(n, open))));
  filter.addEventListener("input", shown);
  shown();
  fill(box, filter, list, detail);
  showType(detail, roots[0], open);
}

function link(name, open) {
  return h("button", { type: "button", class: "link", "data-type": name, onclick: () => open(name) }, name);
}

/** `[Voter!]!` with the named type as a link. */
function ref(r, open) {
  if (r.kind === "NON_NULL") return [ref(r.ofType, open), "!"];
  return r.kind === "LIST" ? ["[", ref(r.ofType, open), "]"] : link(r.name, open);
}

function showType(box, name, open) {
  const ty = types.get(name);
  const desc = (text) => (text ? h("p", { class: "desc" }, text) : null);
  const dflt = (v) => (v === null || v === undefined ? "" : ` = ${v}`);
  fill(box, h("h3", {}, h("small", {}, `${ty.kind.toLowerCase()} `), ty.name), desc(ty.description),
    h("dl", {}, (ty.fields || ty.inputFields || []).map((f) => [
      h("dt", {}, h("code", {}, f.name, f.args && f.args.length
        ? ["(", f.args.map((a, i) => [i ? ", " : "", a.name, ": ", ref(a.type, open), dflt(a.defaultValue)]), ")"] : "",
      ": ", ref(f.type, open), dflt(f.defaultValue))),
      h("dd", {}, desc(f.description))])),
    ty.enumValues ? h("ul", {}, ty.enumValues.map((v) => h("li", {}, h("code", {}, v.name), v.description ? ` — ${v.description}` : ""))) : null);
}
