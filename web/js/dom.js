// Building elements without HTML strings: every text goes in as text, so names from the data can
// never become markup (and the strict CSP forbids inline handlers anyway).

/** h("a", {href: "#/", class: "x", onclick: fn}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const svg = SVG_TAGS.has(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = String(value);
    else if (!svg && name in PROPS) el[PROPS[name]] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const PROPS = { class: "className", value: "value", checked: "checked", selected: "selected", disabled: "disabled" };
const SVG_TAGS = new Set(["svg", "g", "rect", "text", "title", "desc", "line", "defs", "pattern", "path"]);

/** Replace the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form control; `control` is an input/select element. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const error = h("span", { class: "field-error", id: `${id}-error`, role: "alert" });
  control.setAttribute("aria-describedby", hint ? `${id}-hint ${id}-error` : `${id}-error`);
  return h("div", { class: "field", "data-field": control.name || "" },
    h("label", { for: id }, label), control, hint ? h("small", { class: "hint", id: `${id}-hint` }, hint) : null, error);
}

/** Show an error under the control named `name` inside `form`; false when there is none. */
export function fieldError(form, name, message) {
  const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!box) return false;
  box.querySelector(".field-error").textContent = message;
  box.querySelector("input,select,textarea")?.setAttribute("aria-invalid", "true");
  box.querySelector("input,select,textarea")?.focus();
  return true;
}

export function clearErrors(form) {
  for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
  for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

export function options(pairs, selected) {
  return pairs.map(([value, label]) => h("option", { value, selected: value === selected }, label));
}
