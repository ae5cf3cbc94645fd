// Sign-in: paste the token from `boothgraph token` or `boothgraph demo`.
import { field, fill, h } from "../dom.js";
import { t } from "../i18n.js";

export function signInView(main, { message, onToken }) {
  const input = h("input", { name: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const form = h("form", { class: "card signin", id: "signin",
    onsubmit: (event) => { event.preventDefault(); if (input.value.trim()) onToken(input.value.trim()); } },
  h("h1", {}, t("signin.title")),
  message ? h("p", { class: "error", role: "alert" }, message) : null,
  h("p", {}, t("signin.help")),
  field(t("signin.token"), input),
  h("button", { type: "submit", class: "primary" }, t("signin.submit")));
  fill(main, form);
  input.focus();
}
